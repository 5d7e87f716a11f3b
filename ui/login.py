"""The login screen: identifier, password, and the demo accounts when the hub has them."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.client.hub_client import HubClient, HubError
from app.domain.enums import Role
from ui.dialog_buttons import ok_cancel
from ui.naming import named


class LoginDialog(QDialog):
    def __init__(self, client: HubClient, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.setWindowTitle("sasdesk — connexion")
        self.username = named(QLineEdit(), "username")
        self.password = named(QLineEdit(), "password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel("")
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Identifiant", self.username)
        form.addRow("&Mot de passe", self.password)
        buttons = ok_cancel(self, "Se connecter", "Quitter", self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Hub : {client.url}"))
        if client.welcome.get("insecure"):
            warning = named(
                QLabel(
                    "Attention : connexion non chiffrée. Ce hub a été démarré avec --insecure : "
                    "mots de passe et dossiers circulent en clair sur le réseau."
                ),
                "insecureWarning",
            )
            warning.setWordWrap(True)
            layout.addWidget(warning)
        layout.addLayout(form)
        accounts: list[dict[str, Any]] = client.welcome.get("demo_accounts") or []
        if accounts:
            layout.addWidget(
                QLabel(
                    "Comptes de démonstration (mot de passe « demo ») — "
                    "double-clic pour se connecter :"
                )
            )
            self.accounts = named(QListWidget(), "demoAccounts")
            for account in accounts:
                item = QListWidgetItem(
                    f"{account['username']} — {account['name']} — {Role(account['role']).label}"
                )
                item.setData(256, account)
                self.accounts.addItem(item)
            self.accounts.currentItemChanged.connect(self._fill)
            self.accounts.itemActivated.connect(lambda _item: self.submit())
            layout.addWidget(self.accounts)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _fill(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            account = item.data(256)
            self.username.setText(account["username"])
            self.password.setText(account.get("password", ""))

    @asyncSlot()
    async def submit(self) -> None:
        if not self.username.text() or not self.password.text():
            self.message.setText("Saisissez l'identifiant et le mot de passe.")
            return
        self.message.setText("Connexion…")
        try:
            await self.client.login(self.username.text().strip(), self.password.text())
        except HubError as exc:
            self.message.setText(exc.message)
            return
        self.accept()
