"""A table model over dict rows keyed by id, updated in place from hub events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor

from ui.palette import priority_colours

Row = dict[str, Any]
Index = QModelIndex | QPersistentModelIndex


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def when(iso_text: str | None) -> str:
    """A hub timestamp as the desk shows it: local day and minute."""
    if not iso_text:
        return ""
    return datetime.fromisoformat(iso_text).astimezone().strftime("%d/%m/%Y %H:%M")


def elapsed(since: str | None, now: datetime | None = None) -> str:
    start = parse_time(since)
    if start is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Column:
    def __init__(
        self,
        title: str,
        value: Callable[[Row], Any],
        *,
        ticking: bool = False,
        tooltip: Callable[[Row], str] | None = None,
    ):
        self.title = title
        self.value = value
        self.ticking = ticking  # re-read every second (waiting times, deadlines)
        self.tooltip = tooltip


class RowTableModel(QAbstractTableModel):
    """Rows that pass ``accept`` are shown, sorted by ``sort_key``; updates are targeted."""

    def __init__(
        self,
        columns: list[Column],
        accept: Callable[[Row], bool],
        sort_key: Callable[[Row], Any],
        parent: Any = None,
    ):
        super().__init__(parent)
        self.columns = columns
        self.accept = accept
        self.sort_key = sort_key
        self.rows: list[Row] = []
        ticking = [i for i, c in enumerate(columns) if c.ticking]
        if ticking:
            self._ticker = QTimer(self)
            self._ticker.setInterval(1000)
            self._ticker.timeout.connect(lambda: self._tick(ticking))
            self._ticker.start()

    # -- Qt model API -----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(row)
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            # A cell cut by its column still reads in full under the mouse.
            value = column.tooltip(row) if column.tooltip else column.value(row)
            return "" if value is None else str(value)
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole) and (
            column.title == "Priorité"
        ):
            colours = priority_colours(row.get("priority"))
            if colours is not None:
                return QColor(colours[0 if role == Qt.ItemDataRole.BackgroundRole else 1])
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    # -- updates ----------------------------------------------------------------------

    def reset_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """The rows shown: each a copy of the view the hub sent (its TypedDict, read as a
        plain row by the columns)."""
        copies = [dict(r) for r in rows]
        self.beginResetModel()
        self.rows = sorted((r for r in copies if self.accept(r)), key=self.sort_key)
        self.endResetModel()

    def upsert(self, view: Mapping[str, Any]) -> None:
        """Insert, update in place, move or remove one row; selections follow the row."""
        row = dict(view)
        current = self.position(row["id"])
        if not self.accept(row):
            if current is not None:
                self.beginRemoveRows(QModelIndex(), current, current)
                del self.rows[current]
                self.endRemoveRows()
            return
        key = self.sort_key(row)
        others = self.rows if current is None else self.rows[:current] + self.rows[current + 1 :]
        target = next((i for i, r in enumerate(others) if self.sort_key(r) > key), len(others))
        if current is None:
            self.beginInsertRows(QModelIndex(), target, target)
            self.rows.insert(target, row)
            self.endInsertRows()
        elif target == current:
            self.rows[current] = row
            self.dataChanged.emit(
                self.index(current, 0), self.index(current, len(self.columns) - 1)
            )
        else:
            # Qt counts the destination in the list before the move.
            destination = target if target < current else target + 1
            self.beginMoveRows(QModelIndex(), current, current, QModelIndex(), destination)
            del self.rows[current]
            self.rows.insert(target, row)
            self.endMoveRows()

    def position(self, row_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r["id"] == row_id), None)

    def row_at(self, index: int) -> Row | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def _tick(self, columns: list[int]) -> None:
        if self.rows:
            for col in columns:
                self.dataChanged.emit(
                    self.index(0, col),
                    self.index(len(self.rows) - 1, col),
                    [Qt.ItemDataRole.DisplayRole],
                )
