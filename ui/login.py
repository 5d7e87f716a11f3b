"""The login screen: identifier and password, the demo accounts when the hub has them, and
« Pro Santé Connect » when the room has it (ui.psc_login), with the password fallback the
room allows while PSC is unreachable (a reason typed in, audited by the hub)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.client.hub_client import HubClient, HubError
from app.config.desk import load_desk_settings, remember, user_file
from app.config.tomlfile import FileError
from app.domain.enums import Role
from ui import psc_text
from ui.dialog_buttons import ok_cancel
from ui.naming import named
from ui.psc_login import PscDialog, PscPanel, open_in_browser


def remembered_national_id(settings_file: Path | None) -> str:
    try:
        return load_desk_settings(user=settings_file).last_national_id
    except FileError:
        return ""  # the wizard or the desk says what is wrong with the file


class LoginDialog(PscDialog):
    def __init__(
        self,
        client: HubClient,
        parent: QWidget | None = None,
        *,
        settings_file: Path | None = None,
        open_url: Callable[[str], bool] = open_in_browser,
    ):
        super().__init__(parent)
        self.client = client
        self.setWindowTitle("sasdesk — connexion")
        self.psc_policy: dict[str, Any] = client.welcome.get("psc") or {}
        self.username = named(QLineEdit(), "username")
        self.password = named(QLineEdit(), "password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reason = named(QLineEdit(), "fallbackReason")
        self.reason.setMaxLength(500)
        self.message = QLabel("")
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.form = QFormLayout()
        self.form.addRow("&Identifiant", self.username)
        self.form.addRow("&Mot de passe", self.password)
        self.form.addRow("M&otif de la connexion sans Pro Santé Connect", self.reason)
        self.form.setRowVisible(self.reason, False)
        password_page = QWidget()
        page = QVBoxLayout(password_page)
        page.addLayout(self.form)
        accounts: list[dict[str, Any]] = client.welcome.get("demo_accounts") or []
        if accounts:
            self._add_demo_accounts(page, accounts)
        page.addWidget(self.message)
        self.tabs = named(QTabWidget(), "loginTabs")
        self.tabs.setTabBarAutoHide(True)  # no PSC in the room: the password alone
        self.tabs.addTab(password_page, "Mot de &passe")
        self.psc: PscPanel | None = None
        if self.psc_policy.get("enabled"):
            self._add_psc_tab(client, settings_file, open_url)
        self.tabs.currentChanged.connect(lambda _i: self._focus())
        self.buttons = ok_cancel(self, "Se connecter", "Quitter", self.submit)
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
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)
        self.resize(680, self.sizeHint().height())
        self._focus()

    def _add_demo_accounts(self, page: QVBoxLayout, accounts: list[dict[str, Any]]) -> None:
        """The demo room's accounts, a double-click logs in with one."""
        page.addWidget(
            QLabel(
                "Comptes de démonstration (mot de passe « demo ») — double-clic pour se connecter :"
            )
        )
        self.accounts = named(QListWidget(), "demoAccounts")
        for account in accounts:
            item = QListWidgetItem(self._account_line(account))
            item.setData(256, account)
            self.accounts.addItem(item)
        self.accounts.currentItemChanged.connect(self._fill)
        self.accounts.itemActivated.connect(lambda _item: self.submit())
        page.addWidget(self.accounts)

    def _add_psc_tab(
        self, client: HubClient, settings_file: Path | None, open_url: Callable[[str], bool]
    ) -> None:
        """The Pro Santé Connect tab, first if this person last came in with PSC."""
        settings_path = settings_file or user_file()

        def keep(national_id: str) -> None:
            remember(settings_path, last_national_id=national_id)

        self.psc = psc = PscPanel(
            client,
            national_id=remembered_national_id(settings_file),
            remember=keep,
            open_url=open_url,
        )
        psc.logged_in.connect(lambda _reply: self.accept())
        psc.fallback_offered.connect(self.offer_fallback)
        psc.busy_changed.connect(self._psc_busy)
        self.tabs.addTab(psc, "Pro &Santé Connect")
        if psc.national_id.text():  # this person last came in with PSC
            self.tabs.setCurrentWidget(psc)

    def _account_line(self, account: dict[str, Any]) -> str:
        line = f"{account['username']} — {account['name']} — {Role(account['role']).label}"
        if psc_text.role_policy(self.psc_policy, account["role"]) == "must":
            line += " — Pro Santé Connect obligatoire"
        return line

    def _fill(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            account = item.data(256)
            self.username.setText(account["username"])
            self.password.setText(account.get("password", ""))

    def _focus(self) -> None:
        if self.psc is not None and self.tabs.currentWidget() is self.psc:
            self.psc.focus()
        elif self.username.text():
            self.password.setFocus()
        else:
            self.username.setFocus()

    def _psc_busy(self, busy: bool) -> None:
        self.tabs.tabBar().setEnabled(not busy)  # one way in at a time
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not busy)

    def offer_fallback(self) -> None:
        """PSC is unreachable and the room allows a password with a reason."""
        self.form.setRowVisible(self.reason, True)
        self.tabs.setCurrentIndex(0)
        self.message.setText(f"{psc_text.UNAVAILABLE} {psc_text.FALLBACK}")
        (self.reason if self.username.text() else self.username).setFocus()

    @asyncSlot()
    async def submit(self) -> None:
        if self.psc is not None and self.tabs.currentWidget() is self.psc:
            self.psc.start()
            return
        if not self.username.text() or not self.password.text():
            self.message.setText("Saisissez l'identifiant et le mot de passe.")
            return
        self.message.setText("Connexion…")
        reason = self.reason.text().strip() if self.form.isRowVisible(self.reason) else ""
        try:
            await self.client.login(
                self.username.text().strip(), self.password.text(), fallback_reason=reason
            )
        except HubError as exc:
            self._refused(exc, reason)
            return
        self.accept()

    def _refused(self, exc: HubError, reason: str) -> None:
        if exc.code != "psc_required":
            self.message.setText(exc.message)
            return
        if self.form.isRowVisible(self.reason) and not reason:
            self.message.setText("Indiquez le motif de la connexion sans Pro Santé Connect.")
            self.reason.setFocus()
            return
        self.message.setText(exc.message or psc_text.REQUIRED)
        if self.psc is not None:  # PSC answers again, or was never tried: go there
            self.psc.message.setText(psc_text.REQUIRED)
            self.tabs.setCurrentWidget(self.psc)
