"""The desk's first-run wizard: hub, SIP account, headset, then the login.

Keyboard-first: each page opens on its first field, Entrée runs the page's test, Alt+S
goes on once the test passed. The answers are saved per user (``app.config.desk``); the
SIP password goes to the system keyring, never to a file. The wizard ends logged in:
``client`` is the connected, authenticated hub client the desk then uses.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtWidgets import (
    QFormLayout,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from qasync import asyncSlot

from app.client.hub_client import HubClient, HubError
from app.client.trust import HubTrust, PinStore, peer_fingerprint
from app.config.desk import DeskSettings, save_user_settings, split_hubs
from telephony.audio.device import AudioPort, open_audio
from ui import psc_text
from ui.naming import named
from ui.psc_login import PscPanel
from ui.trust_dialog import confirm_fingerprint
from ui.wizard_pages import HeadsetPage, SipPage, result_label, tell


class HubPage(QWizardPage):
    def __init__(self, settings: DeskSettings, journal: Path | None, pins: PinStore | None):
        super().__init__()
        self.setTitle("Hub de la salle")
        self.setSubTitle(
            "L'adresse du hub que l'administrateur vous a donnée, par exemple\n"
            "wss://hub.samu17.local:8765 — Entrée : tester la connexion."
        )
        self.journal, self.pins = journal, pins
        self.client: HubClient | None = None
        self.url = named(QLineEdit(settings.hub_url), "hubUrl")
        self.ca = named(QLineEdit(settings.ca_file), "hubCa")
        self.ca.setPlaceholderText("facultatif : fichier PEM de l'autorité de la salle")
        self.test = named(QPushButton("&Tester la connexion"), "hubTest")
        self.result = result_label("hubResult")
        form = QFormLayout()
        form.addRow("&Adresse du hub", self.url)
        form.addRow("&Certificat d'autorité", self.ca)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.test)
        layout.addWidget(self.result)
        self.test.clicked.connect(self.run_test)
        self.url.returnPressed.connect(self.run_test)
        self.url.textChanged.connect(self._changed)
        self.ca.textChanged.connect(self._changed)

    def initializePage(self) -> None:
        self.url.setFocus()

    def _changed(self) -> None:
        self.result.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.client is not None and self.client.urls == split_hubs(self.url.text())

    @asyncSlot()
    async def run_test(self) -> None:
        urls = split_hubs(self.url.text())
        for url in urls or [""]:
            try:
                parts = urlsplit(url)
                valid = (
                    parts.scheme in ("ws", "wss")
                    and bool(parts.hostname)
                    and (parts.port is None or parts.port > 0)
                )  # bad port: ValueError
            except ValueError:
                valid = False
            if not valid:
                tell(
                    self.result,
                    f"Adresse invalide « {url} » : elle commence par wss:// "
                    "(ou ws:// en clair), suivie du nom du hub et de son port.",
                )
                return
        ca = Path(self.ca.text().strip()) if self.ca.text().strip() else None
        if ca is not None and not ca.is_file():
            tell(self.result, f"Fichier d'autorité introuvable : {ca}")
            return
        if self.client is not None:
            await self.client.close()
            self.client = None
        trust = HubTrust(ca_file=ca, confirm=confirm_fingerprint)
        if self.pins is not None:
            trust.pins = self.pins
        lines: list[str] = []
        for url in urls:  # every hub of the room must answer; each is reported
            self.result.setText(f"Connexion à {url}…")
            probe = HubClient(url, desk=socket.gethostname(), reconnect=False, trust=trust)
            try:
                lines += await self._visit(probe, url, len(urls) > 1)
            except HubError as exc:
                tell(self.result, "\n".join([*lines, f"Échec : {exc.message}"]))
                self.completeChanged.emit()
                return
            finally:
                await probe.close()
        # The desk's own client: every address, failing over from one to the next.
        client = HubClient(
            urls if len(urls) > 1 else urls[0],
            desk=socket.gethostname(),
            journal=self.journal,
            trust=trust,
        )
        try:
            await client.connect()
        except HubError as exc:
            await client.close()
            tell(self.result, "\n".join([*lines, f"Échec : {exc.message}"]))
            return
        tell(self.result, "\n".join(lines))
        self.client = client
        self.completeChanged.emit()

    @staticmethod
    async def _visit(client: HubClient, url: str, several: bool) -> list[str]:
        welcome = await client.connect()
        where = f" ({url})" if several else ""
        lines = [
            f"Hub joint{where} : sasdesk {welcome.get('hub', '?')} "
            f"(protocole {welcome.get('protocol', '?')})."
        ]
        ws = getattr(client, "_ws", None)
        if urlsplit(url).scheme == "wss" and ws is not None:
            lines.append(
                f"Connexion chiffrée ; empreinte SHA-256 du certificat :\n{peer_fingerprint(ws)}"
            )
        else:
            lines.append("Attention : connexion en clair (ws://), sans chiffrement.")
        return lines


class LoginPage(QWizardPage):
    """The password, or Pro Santé Connect when the room has it (Ctrl+Tab between them)."""

    def __init__(self, hub: HubPage, settings: DeskSettings):
        super().__init__()
        self.setTitle("Connexion")
        self.setSubTitle("Votre identifiant et votre mot de passe sasdesk. Entrée : se connecter.")
        self.hub = hub
        self.settings = settings
        self.username = named(QLineEdit(settings.last_username), "wizardUsername")
        self.password = named(QLineEdit(), "wizardPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reason = named(QLineEdit(), "wizardFallbackReason")
        self.reason.setMaxLength(500)
        self.result = result_label("loginResult")
        self.form = QFormLayout()
        self.form.addRow("&Identifiant", self.username)
        self.form.addRow("&Mot de passe", self.password)
        self.form.addRow(psc_text.REASON_LABEL, self.reason)
        self.form.setRowVisible(self.reason, False)
        password_page = QWidget()
        password_page.setLayout(self.form)
        self.tabs = named(QTabWidget(), "wizardLoginTabs")
        self.tabs.setTabBarAutoHide(True)  # no PSC in the room: the password alone
        self.tabs.addTab(password_page, "Mot de passe")
        self.tabs.currentChanged.connect(lambda _i: self.completeChanged.emit())
        self.psc: PscPanel | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.result)
        # The wizard's own last button logs in (SetupWizard.validateCurrentPage).
        self.password.returnPressed.connect(self.login)
        self.reason.returnPressed.connect(self.login)
        self.username.returnPressed.connect(self.password.setFocus)
        for edit in (self.username, self.password):
            edit.textChanged.connect(lambda _text: self.completeChanged.emit())

    def initializePage(self) -> None:
        client = self.hub.client
        if self.psc is not None and self.psc.client is not client:  # another hub tested
            self.tabs.removeTab(1)
            self.psc.deleteLater()
            self.psc = None
        if (
            self.psc is None
            and client is not None
            and (client.welcome.get("psc") or {}).get("enabled")
        ):
            self.psc = PscPanel(client, national_id=self.settings.last_national_id)
            self.psc.national_id.textChanged.connect(lambda _t: self.completeChanged.emit())
            self.psc.logged_in.connect(lambda _reply: self._logged_in())
            self.psc.fallback_offered.connect(self._offer_fallback)
            self.tabs.addTab(self.psc, "Pro Santé Connect")
            if self.psc.national_id.text():
                self.tabs.setCurrentWidget(self.psc)
        if self._on_psc():
            assert self.psc is not None
            self.psc.focus()
        else:
            (self.password if self.username.text() else self.username).setFocus()

    def _on_psc(self) -> bool:
        return self.psc is not None and self.tabs.currentWidget() is self.psc

    def isComplete(self) -> bool:
        if self.hub.client is None:
            return False
        if self._on_psc():
            assert self.psc is not None
            return bool(self.psc.national_id.text().strip())
        return bool(self.username.text().strip() and self.password.text())

    @property
    def logged_in(self) -> bool:
        return self.hub.client is not None and self.hub.client.user is not None

    def _offer_fallback(self) -> None:
        self.form.setRowVisible(self.reason, True)
        self.tabs.setCurrentIndex(0)
        tell(self.result, f"{psc_text.UNAVAILABLE} {psc_text.FALLBACK}")
        (self.password if self.username.text() else self.username).setFocus()

    def _logged_in(self) -> None:
        tell(self.result, "Connecté.")
        wizard = self.wizard()
        if wizard is not None:
            wizard.accept()

    @asyncSlot()
    async def login(self) -> None:
        client = self.hub.client
        if client is None:
            return
        if self._on_psc():
            assert self.psc is not None
            self.psc.start()
            return
        if not self.username.text().strip() or not self.password.text():
            tell(self.result, "Saisissez l'identifiant et le mot de passe.")
            return
        self.result.setText("Connexion…")
        reason = self.reason.text().strip() if self.form.isRowVisible(self.reason) else ""
        try:
            await client.login(
                self.username.text().strip(), self.password.text(), fallback_reason=reason
            )
        except HubError as exc:
            self.result.setText(exc.message)
            self.password.selectAll()
            if exc.code == "psc_required" and self.psc is not None and not reason:
                self.tabs.setCurrentWidget(self.psc)
                self.psc.message.setText(psc_text.REQUIRED)
            return
        self._logged_in()


class SetupWizard(QWizard):
    """``with_login=False``: reopened from the desk's menu (the session goes on)."""

    def __init__(
        self,
        settings: DeskSettings,
        *,
        journal: Path | None = None,
        save_to: Path | None = None,
        with_login: bool = True,
        audio_factory: Callable[[], AudioPort] = open_audio,
        pins: PinStore | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("setupWizard")
        self.setWindowTitle("sasdesk — configuration du poste")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        for button, text in (
            (QWizard.WizardButton.NextButton, "&Suivant >"),
            (QWizard.WizardButton.BackButton, "< &Précédent"),
            (QWizard.WizardButton.FinishButton, "Se &connecter" if with_login else "&Enregistrer"),
            (QWizard.WizardButton.CancelButton, "Annuler"),
        ):
            self.setButtonText(button, text)
        self.settings, self.save_to = settings, save_to
        self.hub_page = HubPage(settings, journal, pins)
        self.sip_page = SipPage(settings)
        self.headset_page = HeadsetPage(settings, audio_factory)
        for page in (self.hub_page, self.sip_page, self.headset_page):
            self.addPage(page)
        self.login_page: LoginPage | None = None
        if with_login:
            self.login_page = LoginPage(self.hub_page, settings)
            self.addPage(self.login_page)
        self.resize(620, 440)

    def validateCurrentPage(self) -> bool:  # noqa: N802 (Qt API)
        """On the login step, the last button logs in; the page closes the wizard."""
        page = self.login_page
        if page is not None and self.currentPage() is page and not page.logged_in:
            page.login()
            return False
        return super().validateCurrentPage()

    @property
    def client(self) -> HubClient | None:
        return self.hub_page.client

    def answers(self) -> DeskSettings:
        sip = self.sip_page
        return replace(
            self.settings,
            hub_url=self.hub_page.url.text().strip(),
            ca_file=self.hub_page.ca.text().strip(),
            sip_server="" if sip.none.isChecked() else sip.server.text().strip(),
            sip_port=sip.port.value(),
            sip_user="" if sip.none.isChecked() else sip.user.text().strip(),
            sip_domain=sip.domain.text().strip(),
            use_headset=not self.headset_page.none.isChecked(),
            last_username=self.login_page.username.text().strip()
            if self.login_page
            else self.settings.last_username,
        )

    def _who_logged_in(self, settings: DeskSettings) -> DeskSettings:
        """Who came in at the login step: their account, and their national identifier if
        they proved it with Pro Santé Connect (pre-filled at the next login here)."""
        client = self.client
        if client is None or client.user is None:
            return settings
        settings = replace(settings, last_username=str(client.user["username"]))
        if client.auth == "psc" and client.user.get("national_id"):
            settings = replace(settings, last_national_id=str(client.user["national_id"]))
        return settings

    def accept(self) -> None:
        self.settings = self._who_logged_in(self.answers())
        save_user_settings(self.settings, self.save_to)
        self.headset_page.stop()
        super().accept()

    def reject(self) -> None:
        self.headset_page.stop()
        super().reject()
