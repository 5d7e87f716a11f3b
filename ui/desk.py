"""One desk assembled: hub client, phone line, window and controller."""

from __future__ import annotations

from pathlib import Path

from app.client.hub_client import HubClient, HubError
from app.client.trust import HubTrust
from telephony.line import PhoneLine
from telephony.training import TrainingLine
from ui.bridge import HubBridge, LineBridge
from ui.controller import DeskController
from ui.main_window import DeskWindow


class Desk:
    def __init__(self, client: HubClient, line: PhoneLine | None):
        self.client = client
        self.line = line
        self.hub = HubBridge(client)
        self.line_bridge = LineBridge(line) if line is not None else None
        self.window: DeskWindow | None = None
        self.controller: DeskController | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
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
        self.window = DeskWindow(self.client.user, training=isinstance(self.line, TrainingLine))
        self.controller = DeskController(self.window, self.hub, self.line_bridge)
        self.controller.on_link(str(self.client.state), "")
        if self.client.snapshot is not None:
            self.controller.on_snapshot(self.client.snapshot)
        if self.line is not None:
            self.line.start()
        else:
            self.window.call_bar.line_status.setText("Pas de ligne téléphonique sur ce poste")
        return self.window

    async def close(self) -> None:
        if self.line is not None:
            self.line.stop()
        if self.window is not None:
            self.window.dossier_form.flush()
        try:
            await self.client.flush()
        except HubError:
            pass  # still journalled: sent at next start
        await self.client.close()
        if self.window is not None:
            self.window.close()
