"""One desk assembled: hub client, phone line, window and controller."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.client.hub_client import HubClient, HubError
from app.client.recordings import RecordingUploader
from app.client.trust import HubTrust
from app.domain.permissions import Granted
from app.resources import data_dir
from telephony.line import PhoneLine
from telephony.training import TrainingLine
from ui.bridge import HubBridge, LineBridge
from ui.controller import DeskController
from ui.main_window import DeskWindow
from ui.password_dialog import PasswordDialog
from ui.psc_text import account_text
from ui.relogin import ReloginDialog
from ui.room_view import RoomView


class Desk:
    def __init__(self, client: HubClient, line: PhoneLine | None):
        self.client = client
        self.line = line
        self.hub = HubBridge(client)
        self.line_bridge = LineBridge(line) if line is not None else None
        self.window: DeskWindow | None = None
        self.controller: DeskController | None = None
        self.uploader: RecordingUploader | None = None
        self.relogin: ReloginDialog | None = None
        self.user: dict[str, Any] = {}
        self.password_dialog: PasswordDialog | None = None

    @classmethod
    async def connect(
        cls,
        url: str | Sequence[str],
        *,
        line: PhoneLine | None = None,
        journal: Path | None = None,
        desk_name: str = "",
        trust: HubTrust | None = None,
    ) -> Desk:
        client = HubClient(url, desk=desk_name, journal=journal, trust=trust)
        await client.connect()
        return cls(client, line)

    def build(self) -> DeskWindow:
        """After login: the window for this user's role, fed by the snapshot so far."""
        assert self.client.user is not None, "login first"
        self.window = DeskWindow(
            self.client.user,
            training=isinstance(self.line, TrainingLine),
            granted=Granted.from_wire(self.client.permissions),
        )
        username = str(self.client.user["username"])
        self.user = dict(self.client.user)  # the re-proof after the session ends needs it
        self._show_account()
        self.client.on_session_ended.append(lambda msg: self._session_ended(username, msg))
        self.window.change_password_action.triggered.connect(lambda: self.change_password(username))
        self.controller = DeskController(self.window, self.hub, self.line_bridge)
        self.view = RoomView(self.window, username)  # maximised, docks, text size, night
        self.controller.on_link(str(self.client.state), "")
        if self.window.audit is not None:
            self.window.audit.bind(self.hub.send)
            self.window.audit.refresh()
        if self.client.snapshot is not None:
            self.controller.on_snapshot(self.client.snapshot)
        record_dir = getattr(getattr(self.line, "config", None), "record_dir", None)
        if self.line is not None and record_dir is not None:
            # Each answered call's WAV goes to the hub's store, journalled until confirmed.
            journal = self.client.outbox.journal
            folder = journal.parent if journal is not None else data_dir()
            self.uploader = RecordingUploader(
                self.client, folder / "recordings.json", Path(record_dir)
            )
            self.uploader.attach(self.line)
            if self.controller.search is not None:  # F7: a doctor called from the search
                self.controller.search.placed.connect(self._note_placed)
            if self.controller.callback is not None:  # the OSNP's call-backs
                self.controller.callback.placed.connect(self._note_placed)
            self.uploader.start()
        if self.line is not None:
            self.line.start()
        else:
            self.window.call_bar.line_status.setText("Pas de ligne téléphonique sur ce poste")
        return self.window

    def _note_placed(self, call_ref: str, call: dict[str, Any]) -> None:
        if self.uploader is not None:
            self.uploader.note_placed(call_ref, **call)

    def _session_ended(self, username: str, msg: dict[str, object]) -> None:
        """The hub ended the session: the same user types the password, the screen stays."""
        if self.window is None or self.relogin is not None:
            return
        self.relogin = ReloginDialog(
            self.client, username, str(msg.get("message", "")), self.window, user=self.user
        )
        self.relogin.finished.connect(self._relogin_done)
        self.relogin.open()

    def change_password(self, username: str) -> None:
        """Menu « Poste › Changer mon mot de passe… »."""
        if self.window is None or self.password_dialog is not None:
            return
        self.password_dialog = PasswordDialog(self.client, username, self.window)
        self.password_dialog.finished.connect(self._password_done)
        self.password_dialog.open()

    def _password_done(self, code: int) -> None:
        self.password_dialog = None
        if code == PasswordDialog.DialogCode.Accepted and self.window is not None:
            self.window.message_label.setText("Mot de passe changé.")

    def _relogin_done(self, code: int) -> None:
        self.relogin = None
        if code != ReloginDialog.DialogCode.Accepted and self.window is not None:
            self.window.close()  # "Quitter le poste": as closing the window
        else:
            self._show_account()  # proven again, maybe another way (PSC back after a fallback)

    def _show_account(self) -> None:
        if self.window is not None and self.client.user is not None:
            self.user = dict(self.client.user)
            text = account_text(self.user, self.client.auth)
            self.window.account_label.setText(text)

    async def close(self) -> None:
        if self.line is not None:
            self.line.stop()
        if self.uploader is not None:
            await self.uploader.stop()  # what is not confirmed stays journalled
        if self.window is not None:
            self.window.dossier_form.flush()
        try:
            await self.client.flush()
        except HubError:
            pass  # still journalled: sent at next start
        await self.client.close()
        if self.window is not None:
            self.window.close()
