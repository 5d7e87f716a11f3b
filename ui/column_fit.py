"""Main lists never scroll sideways: when their columns are wider than the list, every
column shrinks in proportion (its text elided, the full text in the tooltip: the model's
own tooltip if it has one, else the cell's text whenever the cell is cut)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolTip, QTreeView


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
        elif event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.cut_text_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.view.viewport())
                return True
        return False

    def cut_text_at(self, pos: object) -> str:
        """The full text of the cell under ``pos`` if the cell shows it cut, else ""."""
        index = self.view.indexAt(pos)  # type: ignore[arg-type]
        if not index.isValid() or index.data(Qt.ItemDataRole.ToolTipRole):
            return ""  # the model's own tooltip is shown by the view
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if text is None or str(text) == "":
            return ""
        shown = self.view.visualRect(index).width()
        return str(text) if self.view.sizeHintForIndex(index).width() > shown else ""

    def fit(self) -> None:
        header, view = self.header, self.view
        count = header.count()
        if count == 0:
            return
        wanted, floor = [], []
        for col in range(count):
            if header.isSectionHidden(col):
                wanted.append(0)
                floor.append(0)
                continue
            title = header.sectionSizeHint(col)
            hint = max(view.sizeHintForColumn(col), title, 30)
            wanted.append(hint)
            least = max(title, 30)  # the column's title stays readable
            if col == 0 and isinstance(view, QTreeView):
                least = max(least, 12 * view.fontMetrics().averageCharWidth())  # the tree's names
            floor.append(min(hint, least))
        width = view.viewport().width()
        total, floors = sum(wanted), sum(floor)
        if total <= width:
            sizes = [float(w) for w in wanted]
        elif floors >= width:  # not even the titles fit: all shrink alike
            sizes = [f * width / floors for f in floor]
        else:  # the long columns (motif, conditions) give up the room first
            share = (width - floors) / (total - floors)
            sizes = [f + (w - f) * share for w, f in zip(wanted, floor, strict=True)]
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        used = 0
        visible = [c for c in range(count) if wanted[c]]
        for col in visible:
            size = int(sizes[col])
            if col == visible[-1]:
                size = max(width - used, 20)  # the last one takes what is left, no more
            header.resizeSection(col, size)
            used += size


def fit_all(views: list[QAbstractItemView]) -> list[ColumnFitter]:
    return [ColumnFitter(v) for v in views if isinstance(v, QTableView | QTreeView)]
