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


def reasons(row: Row) -> str:
    """What the refusal said, issue by issue (the element, then why)."""
    parts = []
    for issue in row.get("issues") or []:
        where = ", ".join(issue.get("expression") or [])
        why = issue.get("diagnostics") or issue.get("code") or ""
        parts.append(f"{where} : {why}" if where else str(why))
    return " ; ".join(parts)


def received(row: Row) -> str:
    at = datetime.fromisoformat(str(row["at"])).astimezone(PARIS)
    return f"{DAYS[at.weekday()]} {at:%d/%m %H:%M:%S}"


def sender(row: Row) -> str:
    """Who sent it: the platform, the configured editor, or the certificate's subject."""
    if row.get("source") == "platform":
        return f"Plateforme SAS ({row.get('sender', '')})"
    return str(row.get("sender", ""))


REFUSED_COLUMNS = [
    Column("Reçu", received),
    Column("Expéditeur", sender),
    Column("Identifiant", lambda r: r.get("identifier") or "—"),
    Column("Réponse", lambda r: r.get("answer", "")),
    Column("Motif", reasons),
]


def refused_model(parent: Any = None) -> RowTableModel:
    """The agendas' messages the hub refused, newest first (the supervisor's)."""
    return RowTableModel(
        REFUSED_COLUMNS,
        lambda r: True,
        lambda r: (-datetime.fromisoformat(r["at"]).timestamp(), str(r["id"])),
        parent,
    )


def board_model(parent: Any = None) -> RowTableModel:
    """Rows that belong to no dossier, soonest first; an attached one leaves by itself."""
    return RowTableModel(
        COLUMNS, lambda r: r.get("dossier_id") is None, lambda r: (r["start"], r["id"]), parent
    )


class AppointmentBoard(QWidget):
    """``refusals``: the supervisor's desk also lists the messages the hub refused."""

    def __init__(self, parent: QWidget | None = None, *, refusals: bool = False):
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
        self.refused: RowTableModel | None = None
        self.refused_table: QTableView | None = None
        if refusals:
            self.refused = refused_model(self)
            self.refused_table = named(QTableView(), "appointmentRefused")
            self.refused_table.setModel(self.refused)
            self.refused_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            self.refused_table.verticalHeader().setVisible(False)
            header = self.refused_table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
            layout.addWidget(
                named(QLabel("Messages refusés (agendas, plateforme)"), "refusedTitle")
            )
            layout.addWidget(self.refused_table, 1)
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
