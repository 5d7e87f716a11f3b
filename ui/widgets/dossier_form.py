"""The dossier form: patient, location, motif. Every keystroke is saved within a second."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QRegularExpression, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QIntValidator, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QCompleter,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import DossierStatus, Line, Priority, Sex
from app.geo import CommuneIndex, default_index
from ui.naming import named

AUTOSAVE_MS = 400  # well within the one second the room was promised

TEXT_FIELDS = (
    "patient_last_name",
    "patient_first_name",
    "callback_number",
    "address",
    "treating_doctor",
)


class DossierForm(QGroupBox):
    fields_edited = Signal(int, dict)  # dossier id, changed fields (debounced)
    qualify_requested = Signal(int, str)  # dossier id, priority
    close_requested = Signal(int)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        can_qualify: bool = False,
        communes: CommuneIndex | None = None,
    ):
        super().__init__("Dossier de régulation", parent)
        self.dossier: Mapping[str, Any] | None = None
        self._communes = communes or default_index()
        self._pending: dict[str, Any] = {}
        self._loading = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(AUTOSAVE_MS)
        self._debounce.timeout.connect(self._emit_pending)

        self.header = QLabel("Aucun dossier ouvert")
        self.header.setObjectName("dossierHeader")
        self._build_fields()
        grid = self._build_grid()

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)
        self.qualify_box = self._priority_box() if can_qualify else None
        if self.qualify_box is not None:
            layout.addWidget(self.qualify_box)
        self.set_dossier(None)

    def _build_fields(self) -> None:
        """The dossier's inputs, each reporting its edits through ``_edited``."""
        self.edits: dict[str, QLineEdit] = {}
        phone = QRegularExpressionValidator(QRegularExpression(r"[0-9+ .()-]{0,32}"), self)
        for name in TEXT_FIELDS:
            edit = named(QLineEdit(), name)
            if name == "callback_number":
                edit.setValidator(phone)
            edit.textEdited.connect(lambda text, n=name: self._edited(n, text.strip()))
            self.edits[name] = edit
        self.sex = named(QComboBox(), "patient_sex")
        self.sex.addItem("—", "")
        for sex in Sex:
            self.sex.addItem(sex.label, str(sex))
        self.sex.activated.connect(
            lambda _i: self._edited("patient_sex", self.sex.currentData() or None)
        )
        self.age = named(QLineEdit(), "patient_age")
        self.age.setValidator(QIntValidator(0, 130, self))
        self.age.setPlaceholderText("ans")
        self.age.textEdited.connect(self._age_edited)
        self.birth = named(QLineEdit(), "patient_birth_date")
        self.birth.setPlaceholderText("jj/mm/aaaa")
        self.birth.setInputMask("00/00/0000;_")
        self.birth.editingFinished.connect(self._birth_edited)
        self.commune = named(QLineEdit(), "commune")
        self.commune.setPlaceholderText("nom, code postal ou code INSEE")
        self._commune_model = QStringListModel(self)
        self._commune_codes: dict[str, str] = {}
        completer = QCompleter(self._commune_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.activated.connect(self._commune_chosen)
        self.commune.setCompleter(completer)
        self.commune.textEdited.connect(self._commune_typed)
        self.motif = named(QPlainTextEdit(), "motif")
        self.motif.setTabChangesFocus(True)
        self.motif.setPlaceholderText("Motif d'appel, en quelques mots")
        self.motif.textChanged.connect(self._motif_edited)

    def _build_grid(self) -> QGridLayout:
        """The fields with their captions (Alt+underlined letter jumps to the field)."""
        labels = {
            "patient_last_name": "&Nom",
            "patient_first_name": "&Prénom",
            "callback_number": "N° de &rappel",
            "address": "Adre&sse",
            "treating_doctor": "&Médecin traitant",
        }
        # Two fields a row where they are short: the form keeps its height on a
        # 768-pixel screen, the decision and the slot search fit below it.
        line = self.motif.fontMetrics().lineSpacing()
        self.motif.setMinimumHeight(3 * line + 12)
        self.motif.setMaximumHeight(8 * line + 12)  # the priority stays near the fields
        identity = QHBoxLayout()
        identity.addWidget(self.sex)
        identity.addWidget(QLabel("Âge"))
        identity.addWidget(self.age)
        identity.addWidget(QLabel("Né(e) le"))
        identity.addWidget(self.birth)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        def label(text: str, buddy: QWidget) -> QLabel:
            caption = QLabel(text)
            caption.setBuddy(buddy)  # Alt+underlined letter jumps to the field
            return caption

        last, first = self.edits["patient_last_name"], self.edits["patient_first_name"]
        grid.addWidget(label(labels["patient_last_name"], last), 0, 0)
        grid.addWidget(last, 0, 1)
        grid.addWidget(label(labels["patient_first_name"], first), 0, 2)
        grid.addWidget(first, 0, 3)
        grid.addWidget(label("Se&xe", self.sex), 1, 0)
        grid.addLayout(identity, 1, 1, 1, 3)
        number = self.edits["callback_number"]
        grid.addWidget(label(labels["callback_number"], number), 2, 0)
        grid.addWidget(number, 2, 1)
        grid.addWidget(label("&Commune", self.commune), 2, 2)
        grid.addWidget(self.commune, 2, 3)
        doctor = self.edits["treating_doctor"]
        grid.addWidget(label(labels["address"], self.edits["address"]), 3, 0)
        grid.addWidget(self.edits["address"], 3, 1)
        grid.addWidget(label(labels["treating_doctor"], doctor), 3, 2)
        grid.addWidget(doctor, 3, 3)
        motif = label("M&otif", self.motif)
        motif.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(motif, 4, 0)
        grid.addWidget(self.motif, 4, 1, 1, 3)
        grid.setRowStretch(4, 1)
        return grid

    def _priority_box(self) -> QGroupBox:
        box = QGroupBox("Priorité (Alt+0 … Alt+3), puis Ctrl+Entrée pour transmettre")
        grid = QGridLayout(box)  # two rows of two: fits half a 1366-pixel screen
        self.priority_group = QButtonGroup(self)
        for n, priority in enumerate(Priority):
            button = named(QRadioButton(priority.label), f"priority_{priority}")
            self.priority_group.addButton(button)
            button.setProperty("priority", str(priority))
            grid.addWidget(button, n // 2, n % 2)
        self.send_button = named(QPushButton("Transmettre (Ctrl+Entrée)"), "sendButton")
        self.send_button.clicked.connect(self.request_qualify)
        self.close_button = named(QPushButton("Clôturer P3 (F8)"), "closeButton")
        self.close_button.clicked.connect(self.request_close)
        grid.setColumnStretch(2, 1)
        grid.addWidget(self.send_button, 0, 3)
        grid.addWidget(self.close_button, 1, 3)
        return box

    # -- showing a dossier --------------------------------------------------------

    def set_dossier(self, dossier: Mapping[str, Any] | None, *, editable: bool = True) -> None:
        """Show a dossier (or none). Local edits not yet saved are kept on top."""
        same = (
            dossier is not None and self.dossier is not None and dossier["id"] == self.dossier["id"]
        )
        if not same:
            self.flush()
        self.dossier = dossier
        self._loading = True
        try:
            self._fill(dossier, keep=self._pending if same else {})
        finally:
            self._loading = False
        enabled = dossier is not None and editable and dossier["status"] != DossierStatus.CLOSED
        for w in (*self.edits.values(), self.sex, self.age, self.birth, self.commune):
            w.setReadOnly(not enabled) if isinstance(w, QLineEdit) else w.setEnabled(enabled)
        self.motif.setReadOnly(not enabled)
        if self.qualify_box is not None:
            self.qualify_box.setEnabled(
                enabled and dossier is not None and dossier["status"] == DossierStatus.OPEN
            )

    def _fill(self, d: Mapping[str, Any] | None, keep: dict[str, Any]) -> None:
        def value(name: str) -> Any:
            return keep.get(name, d.get(name) if d else None)

        if d is None:
            self.header.setText("Aucun dossier ouvert")
        else:
            line = Line(d["line"]).label if d["line"] in {x.value for x in Line} else d["line"]
            status = DossierStatus(d["status"]).label
            prio = f" · {d['priority']}" if d.get("priority") else ""
            self.header.setText(f"DRM {d['number']} · ligne {line} · {status}{prio}")
        for name, edit in self.edits.items():
            text = value(name) or ""
            if edit.text() != text:
                edit.setText(text)
        sex = value("patient_sex") or ""
        self.sex.setCurrentIndex(max(0, self.sex.findData(sex)))
        age = value("patient_age")
        self.age.setText("" if age is None else str(age))
        birth = value("patient_birth_date")
        self.birth.setText(date.fromisoformat(birth).strftime("%d/%m/%Y") if birth else "")
        commune = value("commune_name") or ""
        insee = value("commune_insee") or ""
        self.commune.setText(f"{commune} — {insee}" if commune and insee else commune)
        motif = value("motif") or ""
        if self.motif.toPlainText() != motif:
            self.motif.setPlainText(motif)
        if self.qualify_box is not None and d is not None and d.get("priority"):
            for button in self.priority_group.buttons():
                button.setChecked(button.property("priority") == d["priority"])

    # -- edits ----------------------------------------------------------------------

    def _edited(self, name: str, value: Any) -> None:
        if self._loading or self.dossier is None:
            return
        self._pending[name] = value
        self._debounce.start()

    def _age_edited(self, text: str) -> None:
        if text.strip().isdigit():
            self._edited("patient_age", int(text))

    def _birth_edited(self) -> None:
        text = self.birth.text()
        try:
            born = datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            return
        if born <= date.today():
            self._edited("patient_birth_date", born.isoformat())

    def _motif_edited(self) -> None:
        self._edited("motif", self.motif.toPlainText())

    def _commune_typed(self, text: str) -> None:
        query = text.split("—")[0].strip()
        found = self._communes.search(query, limit=15) if len(query) >= 2 else []
        if len(query) == 5 and query.isdigit() and (c := self._communes.by_insee(query)):
            found.insert(0, c)
        self._commune_codes = {f"{c.label} — {c.insee}": c.insee for c in found}
        self._commune_model.setStringList(list(self._commune_codes))

    def _commune_chosen(self, text: str) -> None:
        insee = self._commune_codes.get(text)
        commune = self._communes.by_insee(insee) if insee else None
        if commune is not None:
            self.commune.setText(f"{commune.name} — {commune.insee}")
            self._edited("commune_insee", commune.insee)
            self._edited("commune_name", commune.name)

    def _emit_pending(self) -> None:
        if self._pending and self.dossier is not None:
            changes, self._pending = self._pending, {}
            self.fields_edited.emit(self.dossier["id"], changes)

    def flush(self) -> None:
        """Send what is typed now (before changing dossier, qualifying or closing)."""
        self._debounce.stop()
        self._emit_pending()

    # -- actions --------------------------------------------------------------------

    def choose_priority(self, priority: str) -> None:
        if self.qualify_box is None or not self.qualify_box.isEnabled():
            return
        for button in self.priority_group.buttons():
            if button.property("priority") == priority:
                button.setChecked(True)

    def request_qualify(self) -> None:
        if self.qualify_box is None or self.dossier is None or not self.qualify_box.isEnabled():
            return
        checked = self.priority_group.checkedButton()
        if checked is None:
            self.header.setText(self.header.text().split(" ⚠")[0] + " ⚠ choisissez une priorité")
            return
        self.flush()
        self.qualify_requested.emit(self.dossier["id"], checked.property("priority"))

    def request_close(self) -> None:
        if self.dossier is not None:
            self.flush()
            self.close_requested.emit(self.dossier["id"])
