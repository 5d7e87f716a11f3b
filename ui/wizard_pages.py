"""The wizard's SIP and headset pages (``ui.wizard`` puts them in order)."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWizardPage,
)
from qasync import asyncSlot

from app.config.desk import DeskSettings, store_sip_password
from telephony.audio.device import FRAME, RATE, AudioPort, level_dbfs
from telephony.line import LineEvent, LineEventKind
from ui import palette
from ui.naming import named

#: A microphone is heard when its level passes this (quiet room noise is below -60 dBFS).
HEARD_DBFS = -50.0
REGISTRATION_TIMEOUT = 8.0
#: After this many 20 ms frames without a sound, the page says the microphone is silent.
SILENT_TICKS = 50


BAD = (
    "Échec",
    "Attention",
    "Adresse invalide",
    "Fichier",
    "Saisissez",
    "Enregistré, mais",
    "Aucun son",
)


def tell(label: QLabel, text: str) -> None:
    """A test's verdict, line by line: failures and warnings in red, successes in green."""
    lines = []
    for line in text.splitlines():
        theme = palette.current  # readable on the day's and the night's background
        colour = f"{theme.bad}; font-weight: bold" if line.startswith(BAD) else theme.good
        lines.append(f'<span style="color: {colour}">{html.escape(line, quote=False)}</span>')
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setText("<br>".join(lines))


def result_label(name: str) -> QLabel:
    label = named(QLabel(""), name)
    label.setWordWrap(True)
    label.setMinimumHeight(48)
    return label


class SipPage(QWizardPage):
    def __init__(self, settings: DeskSettings):
        super().__init__()
        self.setTitle("Ligne téléphonique (SIP)")
        self.setSubTitle(
            "Le compte SIP de ce poste. Le mot de passe est gardé dans le "
            "trousseau du système, jamais dans un fichier. Entrée : tester."
        )
        self.server = named(QLineEdit(settings.sip_server), "sipServer")
        self.port = named(QSpinBox(), "sipPort")
        self.port.setRange(1, 65535)
        self.port.setValue(settings.sip_port)
        self.user = named(QLineEdit(settings.sip_user), "sipUser")
        self.password = named(QLineEdit(), "sipPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.domain = named(QLineEdit(settings.sip_domain), "sipDomain")
        self.domain.setPlaceholderText("facultatif : par défaut, le serveur")
        self.none = named(
            QCheckBox("Ce poste n'a pas de &ligne SIP (ligne d'entraînement)"), "sipNone"
        )
        self.test = named(QPushButton("&Tester l'enregistrement"), "sipTest")
        self.result = result_label("sipResult")
        self.registered_as: tuple[str, str, int] | None = None
        form = QFormLayout()
        form.addRow("Serveu&r SIP", self.server)
        form.addRow("P&ort", self.port)
        form.addRow("&Identifiant du poste", self.user)
        form.addRow("&Mot de passe", self.password)
        form.addRow("&Domaine", self.domain)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.none)
        layout.addWidget(self.test)
        layout.addWidget(self.result)
        self.test.clicked.connect(self.run_test)
        self.password.returnPressed.connect(self.run_test)
        for edit in (self.server, self.user, self.password, self.domain):
            edit.textChanged.connect(self._changed)
        self.port.valueChanged.connect(self._changed)
        self.none.toggled.connect(self._changed)

    def initializePage(self) -> None:
        (self.password if self.user.text() else self.server).setFocus()

    def _changed(self) -> None:
        self.registered_as = None
        self.result.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.none.isChecked() or self.registered_as == (
            self.user.text().strip(),
            self.server.text().strip(),
            self.port.value(),
        )

    @asyncSlot()
    async def run_test(self) -> None:
        from app.client.network import local_ip_for
        from telephony.sip import SipConfig, SipLine

        server, user = self.server.text().strip(), self.user.text().strip()
        if not server or not user or not self.password.text():
            tell(self.result, "Saisissez le serveur, l'identifiant et le mot de passe.")
            return
        port = self.port.value()
        config = SipConfig(
            server=server,
            port=port,
            user=user,
            password=self.password.text(),
            domain=self.domain.text().strip(),
            local_host=local_ip_for(server, port),
            retry_max=2.0,
        )
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[LineEvent] = loop.create_future()

        def settle(event: LineEvent) -> None:
            if not outcome.done():
                outcome.set_result(event)

        def heard(event: LineEvent) -> None:  # on the line's thread
            if event.kind in (LineEventKind.REGISTERED, LineEventKind.REGISTRATION_FAILED):
                loop.call_soon_threadsafe(settle, event)

        line = SipLine(config)
        line.subscribe(heard)
        self.result.setText(f"Enregistrement auprès de {server}:{port}…")
        try:
            await loop.run_in_executor(None, line.start)
            event = await asyncio.wait_for(outcome, REGISTRATION_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            why = str(exc) or f"rien au bout de {REGISTRATION_TIMEOUT:.0f} s"
            tell(
                self.result,
                f"Échec : pas de réponse du serveur SIP {server}:{port} ({why}). "
                "Vérifiez l'adresse et le port.",
            )
            return
        finally:
            await loop.run_in_executor(None, line.stop)
        if event.kind is LineEventKind.REGISTRATION_FAILED:
            tell(
                self.result,
                f"Échec : le serveur refuse le compte {user} ({event.reason}). "
                "Vérifiez l'identifiant et le mot de passe.",
            )
            return
        settings = DeskSettings(sip_server=server, sip_port=port, sip_user=user)
        try:
            store_sip_password(settings, self.password.text())
        except Exception as exc:  # keyring backends raise their own errors
            tell(
                self.result,
                f"Enregistré, mais aucun trousseau du système n'a pu garder "
                f"le mot de passe ({exc}) : demandez à l'administrateur.",
            )
            return
        self.registered_as = (user, server, port)
        tell(
            self.result,
            f"Ligne enregistrée : {user}@{server}. Mot de passe gardé dans "
            "le trousseau du système.",
        )
        self.completeChanged.emit()


def tone(seconds: float = 1.0, hz: float = 1000.0, dbfs: float = -12.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * hz * t) * 32767 * 10 ** (dbfs / 20)).astype(np.int16)


class HeadsetPage(QWizardPage):
    def __init__(self, settings: DeskSettings, audio_factory: Callable[[], AudioPort]):
        super().__init__()
        self.setTitle("Casque")
        self.setSubTitle(
            "Parlez dans le micro : la jauge doit bouger. La tonalité et l'écho "
            "vérifient l'écouteur."
        )
        self.audio_factory = audio_factory
        self.port: AudioPort | None = None
        self.mic = named(QProgressBar(), "micLevel")
        self.speaker = named(QProgressBar(), "speakerLevel")
        for bar in (self.mic, self.speaker):
            bar.setRange(0, 60)  # -60 … 0 dBFS
            bar.setFormat("silence")
        self.start = named(QPushButton("&Tester le casque"), "headsetTest")
        self.play = named(QPushButton("&Jouer une tonalité"), "headsetTone")
        self.echo = named(QCheckBox("&Écho du micro dans l'écouteur"), "headsetEcho")
        self.none = named(QCheckBox("Ce poste n'a pas de c&asque"), "headsetNone")
        self.none.setChecked(not settings.use_headset)
        self.result = result_label("headsetResult")
        self.peak, self.ticks = -120.0, 0
        self._tone = np.zeros(0, dtype=np.int16)
        self.timer = QTimer(self)
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        form = QFormLayout()
        form.addRow("&Micro", self.mic)
        form.addRow("Écouteur", self.speaker)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for widget in (self.start, self.play, self.echo, self.none, self.result):
            layout.addWidget(widget)
        self.start.clicked.connect(self.begin)
        self.play.clicked.connect(lambda: setattr(self, "_tone", tone()))
        self.none.toggled.connect(lambda _on: self.completeChanged.emit())

    def initializePage(self) -> None:
        self.start.setFocus()

    def isComplete(self) -> bool:
        return self.none.isChecked() or self.peak > HEARD_DBFS

    def begin(self) -> None:
        self.stop()
        self.peak, self.ticks = -120.0, 0
        self.port = self.audio_factory()
        self.result.setText(f"Écoute du micro ({self.port.name})… parlez.")
        self.timer.start()

    def _tick(self) -> None:
        if self.port is None:
            return
        heard = self.port.read(FRAME)
        level = float(level_dbfs(heard))
        self.mic.setValue(max(0, int(level + 60)))
        self.mic.setFormat(f"{level:.0f} dBFS")
        out = np.zeros(FRAME, dtype=np.int16)
        if len(self._tone):
            chunk, self._tone = self._tone[:FRAME], self._tone[FRAME:]
            out[: len(chunk)] = chunk
        if self.echo.isChecked():
            out = np.clip(out.astype(np.int32) + heard, -32768, 32767).astype(np.int16)
        self.port.write(out)
        sent = float(level_dbfs(out))
        self.speaker.setValue(max(0, int(sent + 60)))
        self.speaker.setFormat(f"{sent:.0f} dBFS")
        self.ticks += 1
        was_heard = self.peak > HEARD_DBFS
        self.peak = max(self.peak, level)
        if self.peak > HEARD_DBFS and not was_heard:
            tell(self.result, f"Micro entendu ({self.peak:.0f} dBFS) : le casque fonctionne.")
            self.completeChanged.emit()
        elif not was_heard and self.ticks == SILENT_TICKS:
            tell(
                self.result,
                f"Aucun son du micro (au plus {self.peak:.0f} dBFS) : vérifiez "
                "le branchement et le bouton muet du casque, puis parlez.",
            )

    def stop(self) -> None:
        self.timer.stop()
        if self.port is not None:
            self.port.close()
            self.port = None

    def cleanupPage(self) -> None:
        self.stop()

    def validatePage(self) -> bool:
        # Leaving the page forward: stop reading the microphone (the 20 ms timer otherwise
        # kept the headset open on the login page).
        self.stop()
        return True
