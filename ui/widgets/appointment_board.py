"""The appointment board: appointments received from the agenda editors or the national
platform that belong to no dossier yet. One is attached to the open dossier from the
keyboard (Ctrl+Maj+R), without retyping anything."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.models.rows import Column, Row, RowTableModel
from ui.naming import named

PARIS = ZoneInfo("Europe/Paris")
DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
STATUS = {
    "pending": "En attente",
    "booked": "Réservé",
    "fulfilled": "Honoré",
    "noshow": "Patient non venu",
    "cancelled": "Annulé",
}


def when(row: Row) -> str:
    start = datetime.fromisoformat(str(row["start"])).astimezone(PARIS)
    return f"{DAYS[start.weekday()]} {start:%d/%m %H:%M}"


def regulator(row: Row) -> str:
    reg: dict[str, Any] = row.get("regulator") or {}
    user = reg.get("user")
    if user:
        return str(user["name"])
    return str(reg.get("name") or reg.get("id", ""))  # as the platform names them


def source(row: Row) -> str:
    if row.get("source") == "platform":
        return "Plateforme SAS"
    return f"Éditeur ({row.get('sender', '')})"


COLUMNS = [
    Column("Quand", when),
    Column("Médecin", lambda r: (r.get("effecteur") or {}).get("name", "")),
    Column("Structure", lambda r: r.get("structure", "")),
    Column("Régulateur", regulator),
    Column("Statut", lambda r: STATUS.get(str(r.get("status")), str(r.get("status")))),
    Column("Source", source),
]


def board_model(parent: Any = None) -> RowTableModel:
    """Rows that belong to no dossier, soonest first; an attached one leaves by itself."""
    return RowTableModel(
        COLUMNS, lambda r: r.get("dossier_id") is None, lambda r: (r["start"], r["id"]), parent
    )


class AppointmentBoard(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = board_model(self)
        self.table = named(QTableView(), "appointmentBoard")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary = named(QLabel(""), "appointmentBoardSummary")
        self.summary.setWordWrap(True)
        self.attach_button = named(QPushButton("&Rattacher"), "appointmentAttach")
        self.attach_button.setToolTip(
            "Rattacher au dossier ouvert le rendez-vous choisi (Ctrl+Maj+R)"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.attach_button)
        self.model.modelReset.connect(self._count)
        self.model.rowsInserted.connect(self._count)
        self.model.rowsRemoved.connect(self._count)
        self._count()

    def _count(self) -> None:
        n = self.model.rowCount()
        self.summary.setText(
            "Aucun rendez-vous sans dossier"
            if n == 0
            else f"{n} sans dossier : choisir, ouvrir le dossier, Ctrl+Maj+R"
        )
        self.attach_button.setEnabled(n > 0)

    def selected(self) -> Row | None:
        """The selected row, or the only one."""
        rows = self.table.selectionModel().selectedRows()
        if rows:
            return self.model.row_at(rows[0].row())
        return self.model.row_at(0) if self.model.rowCount() == 1 else None
