"""F12 on a doctor's or supervisor's desk: play the open dossier's call recording,
streamed from the hub (hash checked) and played on the desk's headset."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.client.hub_client import HubError
from app.domain.enums import Role
from app.recordings.desk import fetch_recording
from app.recordings.hub import LISTENERS
from app.recordings.player import AudioOut, RecordingPlayer
from ui.tasks import spawn

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
    ):
        super().__init__(parent)
        self.dossier = dossier  # the dossier in hand is the one played
        self.tell = tell
        self.role = role
        self._audio = audio
        self.player: RecordingPlayer | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="sasdesk-ecoute-")
        self.destroyed.connect(self._folder.cleanup)

    def toggle(self) -> None:
        """Play the open dossier's recording; a second press stops it."""
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
        spawn(self._play(self.dossier.current_id), "recording-play")

    async def _play(self, dossier_id: int) -> None:
        dest = Path(self._folder.name) / f"{dossier_id}.wav"
        self.tell("Chargement de l'enregistrement…")
        try:
            await fetch_recording(self.dossier.hub.client, dossier_id, dest)
        except HubError as exc:
            self.tell(f"Écoute impossible : {exc.message}", error=True)
            return
        if self.player is None:
            self.player = RecordingPlayer(self._audio())
        self.player.play(dest)
        minutes, seconds = divmod(round(self.player.duration), 60)
        self.tell(f"Lecture de l'enregistrement ({minutes} min {seconds:02d} s) — F12 pour arrêter")
