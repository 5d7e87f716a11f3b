"""The regulating doctor's decision, in the nomenclature of regulation software."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import (
    CareLevel,
    ConsultationType,
    Decision,
    DossierStatus,
    Filiere,
    Means,
    Orientation,
    Track,
)
from app.domain.professions import CHOICES, GENERAL
from ui.naming import named


def shrinkable(combo: QComboBox) -> QComboBox:
    """A combo as narrow as its column allows (its list still shows whole labels)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    combo.setToolTip(combo.currentText())  # the whole label when the box cuts it
    combo.currentTextChanged.connect(combo.setToolTip)
    return combo


def enum_combo(enum: type[StrEnum], name: str, *, empty: str | None = None) -> QComboBox:
    combo = named(QComboBox(), name)
    if empty is not None:
        combo.addItem(empty, None)
    for member in enum:
        combo.addItem(getattr(member, "label", str(member)), str(member))
    return combo


class DecisionForm(QGroupBox):
    decide_requested = Signal(int, dict, bool)  # dossier id, decision fields, then close
    close_requested = Signal(int)
    move_track_requested = Signal(int, str)
    release_requested = Signal(int)
    forward_requested = Signal(int)

    def __init__(
        self, parent: QWidget | None = None, *, doctor: bool = True, can_forward: bool = False
    ):
        super().__init__("Décision médicale" if doctor else "Régulation", parent)
        self.dossier: Mapping[str, Any] | None = None
        self.doctor = doctor
        self.decision = enum_combo(Decision, "decision")
        self.care_level = enum_combo(CareLevel, "care_level")
        self.filiere = enum_combo(Filiere, "filiere")
        self.orientation = enum_combo(Orientation, "orientation", empty="—")
        self.consultation = enum_combo(ConsultationType, "consultation_type", empty="—")
        self.means = enum_combo(Means, "means", empty="—")
        # Whom the patient should see (decree of 14 June 2024: other professions too);
        # the OSNP's search and call-back plan follow it. Médecin généraliste first.
        self.wanted = named(QComboBox(), "wanted_professional")
        for label, wanted in CHOICES:
            self.wanted.addItem(label, wanted.key)
        self.comment = named(QLineEdit(), "decision_comment")
        self.fields_box = QWidget()
        grid = QGridLayout(self.fields_box)  # two fields a row: the form stays short
        grid.setContentsMargins(0, 0, 0, 0)
        for n, (text, field) in enumerate((
            ("&Décision", self.decision),
            ("Niveau de &soins", self.care_level),
            ("&Filière", self.filiere),
            ("&Orientation", self.orientation),
            ("&Type de consultation", self.consultation),
            ("Professionne&l demandé", self.wanted),
            ("&Moyen engagé", self.means),
        )):  # fmt: skip
            caption = QLabel(text)
            caption.setBuddy(field)
            shrinkable(field)
            grid.addWidget(caption, n // 2, 2 * (n % 2))
            grid.addWidget(field, n // 2, 2 * (n % 2) + 1)
        caption = QLabel("Co&mmentaire")
        caption.setBuddy(self.comment)
        grid.addWidget(caption, 3, 2)
        grid.addWidget(self.comment, 3, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.decide_button = named(QPushButton("Valider la décision (Ctrl+Entrée)"), "decideButton")
        self.close_button = named(QPushButton("Clôturer (F8)"), "closeDossierButton")
        self.move_button = named(QPushButton("Basculer de filière (F9)"), "moveTrackButton")
        self.release_button = named(QPushButton("Remettre en file"), "releaseButton")
        self.forward_button = named(
            QPushButton("Transmettre au médecin AMU (Ctrl+Entrée)"), "forwardButton"
        )
        buttons = QGridLayout()  # two a row: half a 1366-pixel screen is enough
        shown = [self.close_button, self.release_button]
        if doctor:
            shown = [self.decide_button, self.close_button, self.move_button, self.release_button]
        if can_forward:
            shown.insert(0, self.forward_button)
        for n, b in enumerate(shown):
            buttons.addWidget(b, n // 2, n % 2)
        for b in (self.decide_button, self.move_button, self.forward_button):
            if b not in shown:  # kept for the controller, never shown on this desk
                b.setParent(self)
        self.forward_button.setVisible(can_forward)
        for w in (self.decide_button, self.move_button):
            w.setVisible(doctor)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields_box)
        self.fields_box.setVisible(doctor)
        layout.addLayout(buttons)
        self.decision.currentIndexChanged.connect(self._sync_enabled)
        self.orientation.currentIndexChanged.connect(self._sync_enabled)
        self.decide_button.clicked.connect(lambda: self.request_decide(close=False))
        self.close_button.clicked.connect(self.request_close)
        self.move_button.clicked.connect(self.request_move_track)
        self.release_button.clicked.connect(
            lambda: self.dossier and self.release_requested.emit(self.dossier["id"])
        )
        self.forward_button.clicked.connect(self.request_forward)
        self.set_dossier(None, mine=False)

    def _sync_enabled(self) -> None:
        """Show only the fields that the chosen decision uses."""
        decision = self.decision.currentData()
        self.orientation.setEnabled(decision == Decision.ORIENT)
        self.means.setEnabled(decision == Decision.INTER)
        consultation = (
            decision == Decision.ORIENT
            and self.orientation.currentData() == Orientation.CONSULTATION_48H
        )
        self.consultation.setEnabled(consultation)
        self.wanted.setEnabled(consultation)

    def set_dossier(self, dossier: Mapping[str, Any] | None, *, mine: bool) -> None:
        self.dossier = dossier
        active = dossier is not None and mine and dossier["status"] == DossierStatus.IN_PROGRESS
        self.setEnabled(active)
        if dossier is not None and dossier.get("decision"):
            for combo, key in (
                (self.decision, "decision"),
                (self.care_level, "care_level"),
                (self.filiere, "filiere"),
                (self.orientation, "orientation"),
                (self.consultation, "consultation_type"),
                (self.means, "means"),
            ):
                combo.setCurrentIndex(max(0, combo.findData(dossier.get(key))))
        elif dossier is not None and dossier.get("track") == Track.SNP:
            self.filiere.setCurrentIndex(self.filiere.findData(str(Filiere.SNP)))
        if dossier is None or not dossier.get("decision"):
            self.wanted.setCurrentIndex(0)  # a new decision: médecin généraliste
        self.close_button.setEnabled(
            active and bool(dossier and (dossier.get("decision") or not self.doctor))
        )
        target = "AMU" if dossier and dossier.get("track") == Track.SNP else "SNP"
        self.move_button.setText(f"Basculer en {target} (F9)")
        self._sync_enabled()

    def fields(self) -> dict[str, Any]:
        out = {
            "decision": self.decision.currentData(),
            "care_level": self.care_level.currentData(),
            "filiere": self.filiere.currentData(),
            "comment": self.comment.text(),
        }
        for combo, key in (
            (self.orientation, "orientation"),
            (self.consultation, "consultation_type"),
            (self.means, "means"),
        ):
            if combo.isEnabled() and combo.currentData():
                out[key] = combo.currentData()
        if self.wanted.isEnabled() and self.wanted.currentData() != GENERAL.key:
            profession, _, specialty = str(self.wanted.currentData()).partition("/")
            out["profession"] = profession
            if specialty:
                out["specialty"] = specialty
        return out

    def request_decide(self, close: bool = False) -> None:
        if self.dossier is not None and self.isEnabled() and self.doctor:
            self.decide_requested.emit(self.dossier["id"], self.fields(), close)

    def request_close(self) -> None:
        if self.dossier is not None and self.close_button.isEnabled():
            self.close_requested.emit(self.dossier["id"])

    def request_move_track(self) -> None:
        if self.dossier is not None and self.doctor and self.dossier.get("track"):
            target = Track.AMU if self.dossier["track"] == Track.SNP else Track.SNP
            self.move_track_requested.emit(self.dossier["id"], str(target))

    def request_forward(self) -> None:
        if self.dossier is not None and self.isEnabled() and self.forward_button.isVisible():
            self.forward_requested.emit(self.dossier["id"])
