"""Main lists never scroll sideways: when their columns are wider than the list, every
column shrinks in proportion (its text elided, the full text in the tooltip)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTreeView


class ColumnFitter(QObject):
    def __init__(self, view: QTableView | QTreeView):
        super().__init__(view)
        self.view = view
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
        self.header: QHeaderView = header
        header.setStretchLastSection(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.fit)
        view.viewport().installEventFilter(self)
        model = view.model()
        if model is not None:
            for signal in (model.modelReset, model.rowsInserted, model.layoutChanged,
                           model.dataChanged):  # fmt: skip
                signal.connect(self._timer.start)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize:
            self._timer.start()
        return False

    def fit(self) -> None:
        header, view = self.header, self.view
        count = header.count()
        if count == 0:
            return
        wanted = []
        for col in range(count):
            if header.isSectionHidden(col):
                wanted.append(0)
                continue
            hint = max(view.sizeHintForColumn(col), header.sectionSizeHint(col), 30)
            wanted.append(hint)
        width = view.viewport().width()
        total = sum(wanted)
        scale = min(1.0, width / total) if total else 1.0
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        used = 0
        visible = [c for c in range(count) if wanted[c]]
        for col in visible:
            size = int(wanted[col] * scale)
            if col == visible[-1]:
                size = max(width - used, 20)  # the last one takes what is left, no more
            header.resizeSection(col, size)
            used += size


def fit_all(views: list[QAbstractItemView]) -> list[ColumnFitter]:
    return [ColumnFitter(v) for v in views if isinstance(v, QTableView | QTreeView)]
