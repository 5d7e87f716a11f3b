"""The call bar: which line rings, who calls, for how long; answer and hang up."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
)

from app.domain.enums import Line
from ui.widgets.elided_label import ElidedLabel

PAUSE_REASONS = ("repas", "formation", "débriefing", "tâche administrative", "autre")


class CallBar(QFrame):
    answer_requested = Signal()
    hangup_requested = Signal()
    training_ring_requested = Signal()
    agent_state_requested = Signal(str, str)  # "READY" / "PAUSED", reason
    mute_requested = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, training: bool = False):
        super().__init__(parent)
        self.setObjectName("callBar")
        self.badge = QLabel("—")
        self.badge.setObjectName("lineBadge")
        self.caller = QLabel("Aucun appel")
        self.caller.setObjectName("callerNumber")
        self.timer_label = QLabel("")
        self.timer_label.setObjectName("callTimer")
        self.line_status = ElidedLabel("Ligne : démarrage…")  # "…" on a narrow screen
        self.line_status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.answer_button = QPushButton("Décrocher (F2)")
        self.answer_button.setObjectName("answerButton")
        self.hangup_button = QPushButton("Raccrocher (F3)")
        self.hangup_button.setObjectName("hangupButton")
        self.ring_button = QPushButton("Entraînement (Ctrl+T)")
        self.ring_button.setVisible(training)
        self.mute_button = QPushButton("Micro coupé (Ctrl+M)")
        self.mute_button.setObjectName("muteButton")
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self.mute_requested)
        self.rx_level = self._meter("Niveau du correspondant")
        self.tx_level = self._meter("Niveau de votre micro")
        self.set_audio_controls(False)
        self.agent_button = QToolButton()
        self.agent_button.setObjectName("agentState")
        self.agent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.agent_button)
        ready = menu.addAction("Prêt")
        ready.triggered.connect(lambda: self.agent_state_requested.emit("READY", ""))
        for reason in PAUSE_REASONS:
            action = menu.addAction(f"Pause — {reason}")
            action.triggered.connect(
                lambda _=False, r=reason: self.agent_state_requested.emit("PAUSED", r)
            )
        self.agent_button.setMenu(menu)
        self.show_agent_state("READY", "")
        layout = QHBoxLayout(self)
        for label in (self.badge, self.caller, self.timer_label):
            layout.addWidget(label)
        layout.addStretch(1)
        layout.addWidget(self.line_status, 1)
        layout.addWidget(self.rx_level)
        layout.addWidget(self.tx_level)
        layout.addWidget(self.mute_button)
        layout.addWidget(self.agent_button)
        for button in (self.ring_button, self.answer_button, self.hangup_button):
            layout.addWidget(button)
        self.answer_button.clicked.connect(self.answer_requested)
        self.hangup_button.clicked.connect(self.hangup_requested)
        self.ring_button.clicked.connect(self.training_ring_requested)
        self._since = 0.0
        self._phase = ""
        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._refresh_timer)
        self.show_idle()

    @staticmethod
    def _meter(tip: str) -> QProgressBar:
        meter = QProgressBar()
        meter.setRange(-90, 0)  # dBFS: A-law near-silence sits around -72
        meter.setValue(-90)
        meter.setTextVisible(False)
        meter.setFixedSize(60, 10)
        meter.setToolTip(tip)
        return meter

    def set_audio_controls(self, available: bool) -> None:
        """Mute and level meters exist only on lines with audio (not the training line)."""
        for w in (self.mute_button, self.rx_level, self.tx_level):
            w.setVisible(available)

    def show_levels(self, rx_dbfs: float, tx_dbfs: float) -> None:
        self.rx_level.setValue(int(max(-90.0, min(0.0, rx_dbfs))))
        self.tx_level.setValue(int(max(-90.0, min(0.0, tx_dbfs))))

    def show_agent_state(self, state: str, reason: str) -> None:
        text = "Prêt" if state == "READY" else f"En pause ({reason})" if reason else "En pause"
        self.agent_button.setText(f"{text} ▾")
        self.agent_button.setToolTip("État du poste (Ctrl+P)")
        self.agent_button.setProperty("paused", state == "PAUSED")
        self.agent_button.style().unpolish(self.agent_button)
        self.agent_button.style().polish(self.agent_button)

    @staticmethod
    def line_text(line: str) -> str:
        try:
            return Line(line).label
        except ValueError:
            return line or "—"

    def show_ringing(self, line: str, caller: str) -> None:
        self.badge.setText(self.line_text(line))
        self.badge.setProperty("line", line)
        self.caller.setText(caller or "Numéro masqué")
        self._start("Sonnerie")
        self.answer_button.setEnabled(True)
        self.hangup_button.setEnabled(True)
        self._restyle()

    def show_talking(self) -> None:
        self._start("En ligne")
        self.answer_button.setEnabled(False)
        self.hangup_button.setEnabled(True)

    def show_dialing(self, number: str) -> None:
        self.badge.setText("Sortant")
        self.caller.setText(number)
        self._start("Appel en cours")
        self.answer_button.setEnabled(False)
        self.hangup_button.setEnabled(True)

    def show_idle(self, last: str = "") -> None:
        self._clock.stop()
        self._phase = ""
        self.badge.setText("—")
        self.badge.setProperty("line", "")
        self.caller.setText(last or "Aucun appel")
        self.timer_label.setText("")
        self.answer_button.setEnabled(False)
        self.hangup_button.setEnabled(False)
        self._restyle()

    def _start(self, phase: str) -> None:
        self._phase = phase
        self._since = time.monotonic()
        self._refresh_timer()
        self._clock.start()

    def _refresh_timer(self) -> None:
        seconds = int(time.monotonic() - self._since)
        self.timer_label.setText(f"{self._phase} {seconds // 60:02d}:{seconds % 60:02d}")

    def _restyle(self) -> None:
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
