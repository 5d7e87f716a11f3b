"""The hub ended this desk's session: the same user proves who they are again, in place.

The desk window stays as it is behind the dialog (the dossier on screen, what was typed
kept in the outbox journal); only the same account can take it back. A doctor who came in
with Pro Santé Connect (or whose role must use it) re-proves with PSC, the identifier of
the account fixed (``login.psc.start`` carries ``username``); while PSC is unreachable,
the room's fallback (password with a reason) is offered as at login. Quitting closes the
desk as its window would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.client.hub_client import HubClient, HubError, LinkState
from ui import psc_text
from ui.dialog_buttons import ok_cancel
from ui.naming import named
from ui.psc_login import PscDialog, PscPanel

#: How long the dialog waits for the connection to come back before saying so.
RECONNECT_WAIT = 10.0


def reproves_with_psc(client: HubClient, user: dict[str, Any]) -> bool:
    """PSC again for who came in with it (or by its fallback), or whose role must use it."""
    policy = psc_text.role_policy(client.welcome.get("psc") or {}, str(user.get("role", "")))
    if policy == "password":
        return False
    return policy == "must" or client.auth in ("psc", "password_fallback")


class ReloginDialog(PscDialog):
    def __init__(
        self,
        client: HubClient,
        username: str,
        reason: str,
        parent: QWidget | None = None,
        *,
        user: dict[str, Any] | None = None,
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
        self.fallback_reason = named(QLineEdit(), "fallbackReason")
        self.fallback_reason.setMaxLength(500)
        self.message = named(QLabel(""), "reloginMessage")
        self.message.setWordWrap(True)
        self.form = QFormLayout()
        self.form.addRow("Identifiant", QLabel(username))
        self.form.addRow("&Mot de passe", self.password)
        self.form.addRow("M&otif de la connexion sans Pro Santé Connect", self.fallback_reason)
        self.form.setRowVisible(self.fallback_reason, False)
        buttons = ok_cancel(self, "Reprendre", "Quitter le poste", self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addWidget(
            QLabel("Le dossier ouvert reste à l'écran ; rien de ce qui a été saisi n'est perdu.")
        )
        self.psc = None
        self.tabs: QTabWidget | None = None
        user = user or {}
        if reproves_with_psc(client, user):
            self.psc = PscPanel(
                client, national_id=str(user.get("national_id") or ""), username=username
            )
            self.psc.logged_in.connect(lambda _reply: self.accept())
            self.psc.fallback_offered.connect(self.offer_fallback)
            ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
            self.psc.busy_changed.connect(lambda busy: ok.setEnabled(not busy))
            password_page = QWidget()
            page = QVBoxLayout(password_page)
            page.addLayout(self.form)
            page.addWidget(self.message)
            self.tabs = named(QTabWidget(), "reloginTabs")
            self.tabs.addTab(self.psc, "Pro &Santé Connect")
            self.tabs.addTab(password_page, "Mot de &passe")
            must = psc_text.role_policy(client.welcome.get("psc") or {}, user.get("role", ""))
            self.tabs.setTabVisible(1, must != "must")
            layout.addWidget(self.tabs)
        else:
            layout.addLayout(self.form)
            layout.addWidget(self.message)
        layout.addWidget(buttons)
        if self.psc is not None:
            self.psc.focus()
        else:
            self.password.setFocus()

    def _on_psc(self) -> bool:
        return self.psc is not None and self.tabs is not None and self.tabs.currentIndex() == 0

    def offer_fallback(self) -> None:
        assert self.tabs is not None
        self.form.setRowVisible(self.fallback_reason, True)
        self.tabs.setTabVisible(1, True)
        self.tabs.setCurrentIndex(1)
        self.message.setText(f"{psc_text.UNAVAILABLE} {psc_text.FALLBACK}")
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
        if self._on_psc():
            assert self.psc is not None
            if not self.psc.busy:
                if not await self._connected():
                    self.psc.message.setText(
                        "Le hub ne répond pas encore : réessayez dans un instant."
                    )
                    return
                self.psc.start()
            return
        if not self.password.text():
            self.message.setText("Saisissez votre mot de passe.")
            return
        reason = ""
        if self.form.isRowVisible(self.fallback_reason):
            reason = self.fallback_reason.text().strip()
            if not reason:
                self.message.setText("Indiquez le motif de la connexion sans Pro Santé Connect.")
                self.fallback_reason.setFocus()
                return
        self.message.setText("Connexion…")
        if not await self._connected():
            self.message.setText("Le hub ne répond pas encore : réessayez dans un instant.")
            return
        try:
            await self.client.login(self.username, self.password.text(), fallback_reason=reason)
        except HubError as exc:
            self.password.clear()
            self.message.setText(exc.message)
            return
        self.password.clear()
        self.accept()
