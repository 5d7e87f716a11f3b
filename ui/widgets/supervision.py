"""The supervisor's live view of the room, fed by hub events (app.stats.live.LiveState).

Nothing is polled: events update the state as they arrive; a one-second tick only
re-reads the clock (waiting times, deadlines) and redraws if something changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.hub.payloads import EventMessage, Snapshot
from app.stats.live import LiveState
from app.stats.protocol import LiveDesk
from ui.naming import named

DESK_LABELS = {
    "READY": "Prêts",
    "PAUSED": "En pause",
    "IN_CALL": "En appel",
    "WRAP_UP": "Fin d'appel",
    "OFFLINE": "Déconnectés",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}h{rest // 60:02d}" if hours else f"{sign}{rest // 60}:{rest % 60:02d}"


def table(headers: list[str], name: str) -> tuple[QTableView, QStandardItemModel]:
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(headers)
    view = named(QTableView(), name)
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    rows = view.fontMetrics().lineSpacing() + 8  # compact rows: the dock fits a 768-pixel screen
    view.verticalHeader().setDefaultSectionSize(rows)
    view.setMinimumHeight(view.horizontalHeader().sizeHint().height() + 2 * rows + 4)  # two rows
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return view, model


def fill(model: QStandardItemModel, rows: list[list[str]]) -> None:
    model.removeRows(0, model.rowCount())
    for row in rows:
        model.appendRow([QStandardItem(cell) for cell in row])


class SupervisionView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = LiveState()
        self.alerts = named(QLabel("Aucune alerte"), "supervisionAlerts")
        self.alerts.setWordWrap(True)
        self.rate = named(QLabel(""), "answeringRate")
        self.desks = named(QLabel(""), "desksByState")
        self.rate.setWordWrap(True)
        self.desks.setWordWrap(True)
        self.calls_view, self.calls = table(["Ligne", "Niveau", "En attente"], "callsWaiting")
        self.dossiers_view, self.dossiers = table(
            ["N° DRM", "File", "Priorité", "Attente"], "dossiersWaiting"
        )
        self.tasks_view, self.tasks = table(
            ["Recherche", "Statut", "Âge", "Échéance dans"], "tasksWaiting"
        )
        grid = QGridLayout()
        boxes = [
            ("Appels et dossiers en attente", self.calls_view),
            ("Dossiers en file", self.dossiers_view),
            ("Recherches de RDV (48 h)", self.tasks_view),
        ]
        for row, (title, view) in enumerate(boxes):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(view)
            grid.addWidget(box, row, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.alerts)
        layout.addWidget(self.rate)
        layout.addWidget(self.desks)
        layout.addLayout(grid, 1)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.redraw)
        self._tick.start()

    def load(self, snapshot: Snapshot, desks: Sequence[LiveDesk] | None = None) -> None:
        self.state = LiveState()
        self.state.load({**snapshot, "desks": list(desks or [])})
        self.redraw()

    def apply(self, event: EventMessage) -> None:
        self.state.apply(event)
        self.redraw()

    def redraw(self) -> None:
        view = self.state.view(datetime.now(UTC))
        alerts = view["alerts"]
        self.alerts.setText(
            "⚠ " + " · ".join(a["message"] for a in alerts) if alerts else "Aucune alerte"
        )
        self.alerts.setStyleSheet("color: #b71c1c; font-weight: bold;" if alerts else "")
        rate = view["answered_within_target_rate"]
        self.rate.setText(
            f"Décroché en moins de {self.state.answer_within:.0f} s sur la dernière heure : "
            + (
                f"{rate * 100:.1f} % ({view['calls_in_window']} appels)".replace(".", ",")
                if rate is not None
                else "pas encore d'appel"
            )
            + f" — attente la plus longue : {duration(view['longest_wait_seconds'])}"
        )
        self.desks.setText(
            "Postes : " + " · ".join(f"{DESK_LABELS[s]} {n}" for s, n in view["desks"].items())
        )
        fill(
            self.calls,
            [[c["line_label"], c["level"], str(c["count"])] for c in view["calls_waiting"]],
        )
        fill(
            self.dossiers,
            [
                [
                    str(d.get("number") or d["id"]),
                    d["level"],
                    str(d.get("priority") or ""),
                    duration(d["age_seconds"]),
                ]
                for d in view["dossiers_waiting"]
            ],
        )
        fill(
            self.tasks,
            [
                [
                    str(t["id"]),
                    str(t.get("status") or ""),
                    duration(t["age_seconds"]),
                    duration(t["seconds_to_deadline"]),
                ]
                for t in view["tasks_waiting"]
            ],
        )
