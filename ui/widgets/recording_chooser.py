"""F12 on a dossier with several recordings: the listener chooses which call to hear
(Entrée or double-click), Échap closes. Each listening is audited by the hub."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.dialog_buttons import close_button
from ui.models.recordings import recordings_model


class RecordingChooser(QDialog):
    chosen = Signal(dict)  # the recording (as listed by the hub)

    def __init__(
        self, dossier: str, items: Sequence[Mapping[str, Any]], parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setObjectName("recordingChooser")
        self.setWindowTitle(f"Enregistrements du dossier {dossier}")
        self.model = recordings_model(self)
        self.model.reset_rows(items)
        heading = QLabel(  # the title too: a desk without window decorations shows it
            f"Dossier {dossier} — {len(items)} appels enregistrés : choisissez celui à "
            "écouter (Entrée). Chaque écoute est tracée dans le journal des accès."
        )
        heading.setWordWrap(True)
        self.table = QTableView(self)
        self.table.setObjectName("recordingList")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.play_selected())
        buttons = QDialogButtonBox()
        self.play_button = QPushButton("Écouter (Entrée)")
        self.play_button.setDefault(True)
        self.play_button.clicked.connect(self.play_selected)
        buttons.addButton(self.play_button, QDialogButtonBox.ButtonRole.AcceptRole)
        close_button(buttons, self)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(1040, 110 + 34 * min(len(items), 8))
        if items:
            self.table.selectRow(0)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.play_selected()
            return
        super().keyPressEvent(event)

    def selected(self) -> dict[str, Any] | None:
        return self.model.row_at(self.table.currentIndex().row())

    def play_selected(self) -> None:
        item = self.selected()
        if item is not None:
            self.chosen.emit(item)
            self.accept()
