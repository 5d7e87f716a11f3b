"""F12 on a doctor's or supervisor's desk: play one of the open dossier's call
recordings, streamed from the hub (hash checked) and played on the desk's headset.

A dossier may hold several (the incoming call, the OSNP's call-back calls, calls placed
from the slot search): with more than one, the listener chooses in a list (when, line or
direction, who, how long); each listening is audited by the hub."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.client.hub_client import HubError
from app.client.recordings import fetch_recording, list_recordings
from app.domain.enums import Role
from app.recordings.player import AudioOut, RecordingPlayer
from app.recordings.protocol import LISTENERS
from ui.models.recordings import describe
from ui.tasks import spawn
from ui.widgets.recording_chooser import RecordingChooser

if TYPE_CHECKING:
    from ui.controllers.dossier import DossierController


def _headset() -> AudioOut:
    from telephony.audio.device import open_audio

    return open_audio(True)


class RecordingPlayback(QObject):
    def __init__(
        self,
        dossier: DossierController,
        tell: Callable[..., None],
        role: Role,
        audio: Callable[[], AudioOut] = _headset,
        parent: QObject | None = None,
        window: QWidget | None = None,
    ):
        super().__init__(parent)
        self.dossier = dossier  # the dossier in hand is the one played
        self.tell = tell
        self.role = role
        self._audio = audio
        self._window = window  # the chooser's parent
        self.player: RecordingPlayer | None = None
        self.chooser: RecordingChooser | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="sasdesk-ecoute-")
        self.destroyed.connect(self._folder.cleanup)

    def toggle(self) -> None:
        """Play one of the open dossier's recordings; a second press stops it."""
        if self.player is not None and self.player.playing:
            self.player.stop()
            self.tell("Lecture arrêtée")
            return
        if self.role not in LISTENERS:
            self.tell(
                "L'écoute des enregistrements est réservée aux médecins "
                "régulateurs et au superviseur",
                error=True,
            )
            return
        if self.dossier.current_id is None:
            self.tell("Ouvrez d'abord un dossier", error=True)
            return
        spawn(self._choose(self.dossier.current_id), "recording-list")

    async def _choose(self, dossier_id: int) -> None:
        try:
            items = await list_recordings(self.dossier.hub.client, dossier_id)
        except HubError as exc:
            self.tell(f"Écoute impossible : {exc.message}", error=True)
            return
        if not items:
            self.tell("Aucun enregistrement conservé pour ce dossier", error=True)
            return
        if len(items) == 1:
            await self._play(dossier_id, items[0])
            return
        number = str((self.dossier.form.dossier or {}).get("number") or dossier_id)
        if self.chooser is not None:
            self.chooser.close()
        self.chooser = RecordingChooser(number, items, self._window)
        self.chooser.chosen.connect(
            lambda item: spawn(self._play(dossier_id, item), "recording-play")
        )
        self.chooser.open()
        self.tell(f"{len(items)} enregistrements : choisissez l'appel à écouter")

    async def _play(self, dossier_id: int, item: Mapping[str, Any]) -> None:
        dest = Path(self._folder.name) / f"{dossier_id}-{item['id']}.wav"
        self.tell("Chargement de l'enregistrement…")
        try:
            await fetch_recording(self.dossier.hub.client, dossier_id, dest, item["id"])
        except HubError as exc:
            self.tell(f"Écoute impossible : {exc.message}", error=True)
            return
        if self.player is None:
            self.player = RecordingPlayer(self._audio())
        try:
            self.player.play(dest)
        except (ValueError, OSError) as exc:  # a format the desk cannot play: say so
            self.tell(f"Écoute impossible : {exc}", error=True)
            return
        played = {**item, "seconds": self.player.duration}
        self.tell(f"Lecture de l'enregistrement — {describe(played)} — F12 pour arrêter")
