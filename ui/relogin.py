"""The hub ended this desk's session: ask the same user's password again, in place.

The desk window stays as it is behind the dialog (the dossier on screen, what was typed
kept in the outbox journal); only the same account can take it back. Quitting closes
the desk as its window would.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.client.hub_client import HubClient, HubError, LinkState
from ui.dialog_buttons import ok_cancel
from ui.naming import named

#: How long the dialog waits for the connection to come back before saying so.
RECONNECT_WAIT = 10.0


class ReloginDialog(QDialog):
    def __init__(
        self, client: HubClient, username: str, reason: str, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.client = client
        self.username = username
        self.setWindowTitle("sasdesk — session terminée")
        self.setModal(True)
        self.reason = named(QLabel(reason), "sessionEndedReason")
        self.reason.setWordWrap(True)
        self.password = named(QLineEdit(), "password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = named(QLabel(""), "reloginMessage")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Identifiant", QLabel(username))
        form.addRow("&Mot de passe", self.password)
        buttons = ok_cancel(self, "Reprendre", "Quitter le poste", self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addWidget(
            QLabel("Le dossier ouvert reste à l'écran ; rien de ce qui a été saisi n'est perdu.")
        )
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.password.setFocus()

    async def _connected(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECONNECT_WAIT
        while self.client.state not in (LinkState.CONNECTED, LinkState.READY):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    @asyncSlot()
    async def submit(self) -> None:
        if not self.password.text():
            self.message.setText("Saisissez votre mot de passe.")
            return
        self.message.setText("Connexion…")
        if not await self._connected():
            self.message.setText("Le hub ne répond pas encore : réessayez dans un instant.")
            return
        try:
            await self.client.login(self.username, self.password.text())
        except HubError as exc:
            self.password.clear()
            self.message.setText(exc.message)
            return
        self.password.clear()
        self.accept()
