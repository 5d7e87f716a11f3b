"""Lists of earlier dossiers: the caller's history (Ctrl+H) and the dossier search
(Ctrl+Shift+F). Read-only summaries; Entrée opens the dossier, Ctrl+J attaches the
dossier in hand to the selected one's patient."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.history.protocol import DossierSummary
from ui.dialog_buttons import close_button
from ui.models.rows import when

COLUMNS = ("Date", "N° dossier", "Priorité", "Décision", "Patient", "Commune", "Motif")


def patient(d: DossierSummary) -> str:
    name = " ".join(x for x in (d["patient_last_name"].upper(),
                                d["patient_first_name"]) if x)  # fmt: skip
    return name or "(non renseigné)"


class DossierTable(QTableWidget):
    """The summaries, newest first; every cell's full text in its tooltip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("dossierList")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        for col in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.rows: list[DossierSummary] = []

    def load(self, rows: list[DossierSummary]) -> None:
        self.rows = rows
        self.setRowCount(len(rows))
        for r, d in enumerate(rows):
            cells = (when(d["answered_at"]), d["number"], d["priority"] or "—",
                     d["decision"] or "—", patient(d), d["commune_name"],
                     d["motif"])  # fmt: skip
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.setItem(r, c, item)
        if rows:
            self.selectRow(0)

    def selected(self) -> DossierSummary | None:
        row = self.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None


class DossierListDialog(QDialog):
    """A list of dossiers with its two actions; the search form above it when asked."""

    open_requested = Signal(int)  # dossier id
    link_requested = Signal(int)  # the dossier whose patient this is
    search_requested = Signal(dict)

    def __init__(self, title: str, parent: QWidget | None = None, *, search: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("dossierSearch" if search else "callerHistory")
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        self.table = DossierTable(self)
        self.table.doubleClicked.connect(lambda _i: self._open())
        layout = QVBoxLayout(self)
        if search:
            layout.addLayout(self._search_form())
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox()
        self.open_button = QPushButton("Ouvrir (Entrée)")
        self.open_button.clicked.connect(self._open)
        self.link_button = QPushButton("Même patient que le dossier en cours (Ctrl+J)")
        self.link_button.clicked.connect(self._link)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.link_button, QDialogButtonBox.ButtonRole.ActionRole)
        close_button(buttons, self)
        layout.addWidget(buttons)
        self.resize(900, 420)

    def _search_form(self) -> QFormLayout:
        form = QFormLayout()
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("0612345678")
        self.name = QLineEdit()
        self.name.setPlaceholderText("NOM prénom (début suffit)")
        self.number = QLineEdit()
        self.number.setPlaceholderText("20261124-000123")
        self.use_period = QCheckBox("Période du")
        self.since = QDateEdit(QDate.currentDate().addDays(-30))
        self.until = QDateEdit(QDate.currentDate())
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        period = QHBoxLayout()
        for w in (self.use_period, self.since, QLabel("au"), self.until):
            period.addWidget(w)
        period.addStretch(1)
        go = QPushButton("Rechercher")
        go.setDefault(False)
        go.clicked.connect(self.submit)
        for line in (self.phone, self.name, self.number):
            line.returnPressed.connect(self.submit)
        form.addRow("N° d'appelant", self.phone)
        form.addRow("&Nom du patient", self.name)
        form.addRow("N° de dossier (DRM)", self.number)
        form.addRow(period)
        form.addRow(go)
        return form

    def submit(self) -> None:
        criteria: dict[str, Any] = {"phone": self.phone.text().strip(),
                                    "name": self.name.text().strip(),
                                    "number": self.number.text().strip()}  # fmt: skip
        if self.use_period.isChecked():
            criteria["since"] = self.since.date().toString(Qt.DateFormat.ISODate)
            criteria["until"] = self.until.date().toString(Qt.DateFormat.ISODate)
        self.search_requested.emit({k: v for k, v in criteria.items() if v})

    def show_rows(self, heading: str, rows: list[DossierSummary]) -> None:
        self.heading.setText(heading)
        self.table.load(rows)
        self.table.setFocus()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            self._open()
            return
        if event.key() == Qt.Key.Key_J and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._link()
            return
        super().keyPressEvent(event)

    def _open(self) -> None:
        row = self.table.selected()
        if row is not None:
            self.open_requested.emit(row["id"])

    def _link(self) -> None:
        row = self.table.selected()
        if row is not None:
            self.link_requested.emit(row["id"])
