"""The supervisor's view of the audit of reads: who opened which dossier, from where."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.audit.protocol import AuditList, AuditReply
from app.hub.payloads import as_reply
from ui.naming import named

PARIS = ZoneInfo("Europe/Paris")
Send = Callable[..., Awaitable[dict[str, Any] | None]]
COLUMNS = ("Date", "Utilisateur", "Rôle", "Poste", "Dossier", "Lecture", "Résultat")
PERIODS = (
    ("24 dernières heures", 1),
    ("7 derniers jours", 7),
    ("30 derniers jours", 30),
    ("Tout", 0),
)
PAGE = 200


class AuditView(QWidget):
    """Filters on top, the trail below (newest first), older rows on demand."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._send: Send | None = None
        self._oldest: int | None = None
        self.dossier = named(QLineEdit(), "auditDossier")
        self.dossier.setPlaceholderText("numéro ou identifiant")
        self.user = named(QLineEdit(), "auditUser")
        self.user.setPlaceholderText("identifiant")
        self.period = named(QComboBox(), "auditPeriod")
        for label, days in PERIODS:
            self.period.addItem(label, days)
        self.period.setCurrentIndex(1)
        self.refused = named(QCheckBox("Refus seulement"), "auditRefused")
        self.show_button = named(QPushButton("&Afficher"), "auditShow")
        self.older = named(QPushButton("Plus anciennes…"), "auditOlder")
        self.older.setEnabled(False)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = named(QTableView(), "auditTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = named(QLabel(""), "auditStatus")

        filters = QGridLayout()  # two rows: the tab fits beside the dossier at 1366 px
        for n, (label, widget) in enumerate((
            ("&Dossier", self.dossier),
            ("&Utilisateur", self.user),
            ("&Période", self.period),
        )):  # fmt: skip
            caption = QLabel(label)
            caption.setBuddy(widget)
            filters.addWidget(caption, n // 2, 2 * (n % 2))
            filters.addWidget(widget, n // 2, 2 * (n % 2) + 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refused)
        buttons.addWidget(self.show_button)
        filters.addLayout(buttons, 1, 2, 1, 2)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Journal des accès aux dossiers (lectures et refus)"))
        layout.addLayout(filters)
        layout.addWidget(self.table)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.older)
        layout.addLayout(bottom)
        self.show_button.clicked.connect(lambda: self.refresh())
        self.dossier.returnPressed.connect(lambda: self.refresh())
        self.user.returnPressed.connect(lambda: self.refresh())
        self.older.clicked.connect(lambda: self.refresh(more=True))

    def bind(self, send: Send) -> None:
        """Give the view its only dependency: sending an intent to the hub."""
        self._send = send

    def query(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"limit": PAGE, "refused_only": self.refused.isChecked()}
        if self.dossier.text().strip():
            payload["dossier"] = self.dossier.text().strip()
        if self.user.text().strip():
            payload["username"] = self.user.text().strip()
        days = int(self.period.currentData())
        if days:
            payload["since"] = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        return payload

    @asyncSlot()
    async def refresh(self, more: bool = False) -> None:
        if self._send is None:
            return
        payload = self.query()
        if more and self._oldest is not None:
            payload["before_id"] = self._oldest
        reply = await self._send(AuditList, **payload)
        if reply is not None:
            self.show_reads(as_reply(reply, AuditReply), append=more)

    def show_reads(self, reply: AuditReply, append: bool = False) -> None:
        if not append:
            self.model.removeRows(0, self.model.rowCount())
        for read in reply["reads"]:
            at = datetime.fromisoformat(read["at"]).astimezone(PARIS)
            dossier = read["dossier_number"] or (
                f"n° {read['dossier_id']}" if read["dossier_id"] else ""
            )
            result = "accordée" if read["granted"] else "REFUSÉE"
            cells = (
                f"{at:%d/%m/%Y %H:%M:%S}",
                read["username"],
                read["role"],
                read["desk"],
                dossier,
                read["label"],
                result,
            )
            self.model.appendRow([QStandardItem(str(c)) for c in cells])
        if reply["reads"]:
            self._oldest = reply["reads"][-1]["id"]
        self.older.setEnabled(bool(reply["more"]))
        count = self.model.rowCount()
        self.status.setText(
            f"{count} lecture(s)" + (" — d'autres, plus anciennes" if reply["more"] else "")
        )
