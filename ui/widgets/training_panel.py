"""What the simulated caller says, turn by turn, and the debrief once the call is sent on."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.domain.enums import Priority
from telephony.scenarios import Scenario
from ui.naming import named

SPEAKERS = {"appelant": "Appelant", "arm": "ARM"}


class TrainingPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Appel d'entraînement", parent)
        self.scenario: Scenario | None = None
        self.shown = 0
        self.heading = named(QLabel(""), "trainingTitle")
        self.heading.setWordWrap(True)
        self.text = named(QTextBrowser(), "trainingDialogue")
        self.next_button = named(QPushButton("Réplique suivante (F6)"), "nextTurn")
        self.next_button.clicked.connect(self.next_turn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.next_button)
        self.setVisible(False)

    def start(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.shown = 0
        self.heading.setText("Écoutez l'appelant, posez vos questions, qualifiez.")
        self.text.clear()
        self.setVisible(True)
        self.next_turn()

    def next_turn(self) -> None:
        if self.scenario is None or self.shown >= len(self.scenario.dialogue):
            self.next_button.setEnabled(False)
            return
        turn = self.scenario.dialogue[self.shown]
        self.shown += 1
        who = SPEAKERS.get(turn.who, turn.who.capitalize())
        self.text.append(f"<p><b>{who} :</b> {turn.text}</p>")
        self.next_button.setEnabled(self.shown < len(self.scenario.dialogue))

    def debrief(self, chosen_priority: str | None) -> None:
        """After the trainee sent the call on: what was expected, and why."""
        if self.scenario is None:
            return
        while self.shown < len(self.scenario.dialogue):
            self.next_turn()
        expected = self.scenario.expected.get("priority", "")
        verdict = (
            "✔ bonne priorité"
            if chosen_priority == expected
            else f"✘ priorité attendue : {Priority(expected).label}"
            if expected
            else ""
        )
        chosen = Priority(chosen_priority).label if chosen_priority else "aucune"
        self.heading.setText(f"{self.scenario.title} — votre choix : {chosen} {verdict}")
        self.text.append(f"<hr><p><b>Débriefing :</b> {self.scenario.debrief}</p>")
        self.next_button.setEnabled(False)
