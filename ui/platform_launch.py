"""Ctrl+Maj+S: the national SAS platform's search for the open dossier, in the browser
(the guide's INT_L01). The hub builds the address (it holds the room's settings and the
directory); the desk opens it and says what the search goes without."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices

from app.appointments.protocol import AppointmentPlatformSearch, PlatformSearchReply
from app.hub.payloads import as_reply
from ui.tasks import spawn

if TYPE_CHECKING:
    from ui.controllers.dossier import DossierController


def open_in_browser(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


class PlatformLauncher(QObject):
    def __init__(
        self,
        dossier: DossierController,
        tell: Callable[..., None],
        opener: Callable[[str], bool] = open_in_browser,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.dossier = dossier
        self.tell = tell
        self.opener = opener
        #: The last address opened (the tests read it).
        self.opened = ""

    def launch(self) -> None:
        if self.dossier.current_id is None:
            self.tell("Ouvrez d'abord un dossier", error=True)
            return
        spawn(self._launch(self.dossier.current_id), "platform-search")

    async def _launch(self, dossier_id: int) -> None:
        reply = await self.dossier.hub.send(AppointmentPlatformSearch, dossier_id=dossier_id)
        if reply is None:
            return  # refused (not configured, not visible): the bridge showed why
        launch = as_reply(reply, PlatformSearchReply)
        url = launch["url"]
        if not self.opener(url):
            self.tell(f"Impossible d'ouvrir le navigateur ; adresse : {url}", error=True)
            return
        self.opened = url
        notes = "; ".join(launch["notes"])
        said = "Recherche de la plateforme SAS ouverte dans le navigateur"
        self.tell(f"{said} ({notes})" if notes else said)
