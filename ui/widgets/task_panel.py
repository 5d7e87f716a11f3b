"""The OSNP's list of appointment searches and the form to close one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import NoSolutionReason, TaskOutcome, TaskStatus
from ui.models.rows import RowTableModel
from ui.naming import named
from ui.widgets.decision_form import enum_combo, shrinkable


class TaskPanel(QWidget):
    take_requested = Signal(int)
    close_requested = Signal(int, dict)
    selected = Signal(dict)

    def __init__(self, model: RowTableModel, user_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.user_id = user_id
        self.table = named(QTableView(), "taskTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setMaximumSectionSize(280)
        self.table.activated.connect(lambda idx: self.request_take())
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.take_button = named(QPushButton("Prendre la recherche (Entrée)"), "takeTask")
        self.take_button.clicked.connect(self.request_take)

        self.outcome = enum_combo(TaskOutcome, "outcome")
        self.with_whom = named(QLineEdit(), "appointment_with")
        self.with_whom.setPlaceholderText("Dr … (nom du médecin qui reçoit le patient)")
        self.when = named(QDateTimeEdit(), "appointment_at")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.place = named(QLineEdit(), "appointment_place")
        self.reason = enum_combo(NoSolutionReason, "no_solution_reason")
        self.comment = named(QLineEdit(), "task_comment")
        self.close_button = named(QPushButton("Clôturer la recherche (Ctrl+Entrée)"), "closeTask")
        self.close_button.clicked.connect(self.request_close)
        self.current = QLabel("Sélectionnez une recherche de RDV")
        self.current.setWordWrap(True)
        form_box = QGroupBox("Résultat")
        form = QGridLayout(form_box)  # two fields a row: the panel fits a 768-pixel screen
        for n, (text, field) in enumerate((
            ("&Issue", self.outcome),
            ("RDV &avec", self.with_whom),
            ("&Le", self.when),
            ("Lie&u", self.place),
            ("Sans solution : &raison", self.reason),
            ("Co&mmentaire", self.comment),
        )):  # fmt: skip
            caption = QLabel(text)
            caption.setBuddy(field)
            if isinstance(field, QComboBox):
                shrinkable(field)
            form.addWidget(caption, n // 2, 2 * (n % 2))
            form.addWidget(field, n // 2, 2 * (n % 2) + 1)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        form.addWidget(self.close_button, 3, 0, 1, 4)
        self.outcome.currentIndexChanged.connect(self._sync)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Recherches de RDV (48 h)"))
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.current, 1)
        row.addWidget(self.take_button)
        layout.addLayout(row)
        layout.addWidget(form_box)
        self._reset_form()
        self._sync()

    def _reset_form(self) -> None:
        soon = datetime.now(UTC).astimezone() + timedelta(hours=2)
        self.when.setDateTime(QDateTime(soon.replace(minute=0, second=0, microsecond=0)))
        self.with_whom.clear()
        self.place.clear()
        self.comment.clear()

    def _sync(self) -> None:
        appointment = self.outcome.currentData() != TaskOutcome.SANS_SOLUTION
        for w in (self.with_whom, self.when, self.place):
            w.setEnabled(appointment)
        self.reason.setEnabled(not appointment)
        task = self.selected_task()
        mine = (
            task is not None
            and (task.get("owner") or {}).get("id") == self.user_id
            and task["status"] == TaskStatus.IN_PROGRESS
        )
        self.close_button.setEnabled(mine)
        self.take_button.setEnabled(task is not None and task["status"] == TaskStatus.OPEN)

    def selected_task(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _row_changed(self, *_: Any) -> None:
        task = self.selected_task()
        if task is not None:
            self.current.setText(
                f"{task.get('patient') or 'Patient'} — {task.get('motif') or ''}"
                f" — rappel {task.get('callback_number') or '?'}"
            )
            self.selected.emit(task)
        self._sync()

    def refresh(self) -> None:
        self._sync()

    def request_take(self) -> None:
        task = self.selected_task()
        if task is not None and task["status"] == TaskStatus.OPEN:
            self.take_requested.emit(task["id"])

    def request_close(self) -> None:
        task = self.selected_task()
        if task is None or not self.close_button.isEnabled():
            return
        payload: dict[str, Any] = {
            "outcome": self.outcome.currentData(),
            "comment": self.comment.text(),
        }
        if self.outcome.currentData() == TaskOutcome.SANS_SOLUTION:
            payload["no_solution_reason"] = self.reason.currentData()
        else:
            local = self.when.dateTime().toPython()
            assert isinstance(local, datetime)
            when = local.astimezone(UTC)
            payload["appointment"] = {
                "with": self.with_whom.text().strip(),
                "at": when.isoformat(),
                "place": self.place.text().strip(),
            }
        self.close_requested.emit(task["id"], payload)

    def after_close(self) -> None:
        self._reset_form()
        self._sync()


def focus_first(table: QTableView) -> None:
    if table.model().rowCount() and not table.currentIndex().isValid():
        table.setCurrentIndex(table.model().index(0, 0))
    table.setFocus(Qt.FocusReason.ShortcutFocusReason)
