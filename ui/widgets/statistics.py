"""The month's tables in the desk: seed-003 daily table, per commune, calls, tasks…

Tables come from the hub (``stats.report``), built from events like the CLI report.
The desk filters by territory (column groups), draws the daily series as bars, and
exports what it shows to CSV or Excel.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.stats.calendar import MONTH_NAMES
from app.stats.protocol import Report
from ui import palette
from ui.naming import named

MONTHS = MONTH_NAMES  # one list of French month names (app/stats/calendar.py)


def last_months(today: date, count: int = 13) -> list[tuple[str, str]]:
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        out.append((f"{year:04d}-{month:02d}", f"{MONTHS[month - 1]} {year}"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def visible_columns(table: dict[str, Any], territory: str) -> list[int]:
    """Columns of the table for one territory (its group), plus ungrouped ones."""
    groups: list[str] | None = table.get("groups")
    if not groups or not territory:
        return list(range(len(table["columns"])))
    return [i for i, g in enumerate(groups) if not g or g == territory]


def header(table: dict[str, Any], col: int) -> str:
    groups = table.get("groups")
    group = groups[col] if groups else ""
    return f"{group}\n{table['columns'][col]}" if group else str(table["columns"][col])


class BarChart(QWidget):
    """Daily bars of up to six numeric columns (the month at a glance)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.labels: list[str] = []
        self.series: list[tuple[str, list[float]]] = []
        self.setMinimumHeight(180)

    def set_data(self, labels: list[str], series: list[tuple[str, list[float]]]) -> None:
        self.labels, self.series = labels, series[: len(palette.current.series)]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(40, 10, -10, -40)
        surface, axis, label_ink, ink = palette.current.chart  # day or night, read when painted
        colours = palette.current.series
        painter.fillRect(self.rect(), QColor(surface))
        painter.setPen(QColor(ink))
        if not self.labels or not self.series:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Pas de données pour ce mois")
            return
        top = max((max(v, default=0) for _, v in self.series), default=0) or 1
        n, k = len(self.labels), len(self.series)
        slot = rect.width() / n
        bar = max(1.0, slot * 0.8 / k)
        painter.setPen(QColor(axis))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.drawText(QRectF(0, rect.top() - 5, 36, 14), Qt.AlignmentFlag.AlignRight, f"{top:g}")
        small = QFont(painter.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.75))
        painter.setFont(small)
        for i, label in enumerate(self.labels):
            x0 = rect.left() + i * slot + slot * 0.1
            for j, (_name, values) in enumerate(self.series):
                value = values[i] if i < len(values) else 0
                h = rect.height() * value / top
                painter.fillRect(
                    QRectF(x0 + j * bar, rect.bottom() - h, bar - 1, h), QColor(colours[j])
                )
            if n <= 31 or i % 2 == 0:
                painter.setPen(QColor(label_ink))
                painter.drawText(
                    QRectF(x0 - 4, rect.bottom() + 2, slot + 8, 14),
                    Qt.AlignmentFlag.AlignHCenter,
                    label,
                )
        x = rect.left()
        for j, (name, _values) in enumerate(self.series):
            painter.fillRect(QRectF(x, rect.bottom() + 20, 10, 10), QColor(colours[j]))
            painter.setPen(QColor(ink))
            painter.drawText(
                QRectF(x + 14, rect.bottom() + 17, 200, 16), Qt.AlignmentFlag.AlignLeft, name
            )
            x += 18 + painter.fontMetrics().horizontalAdvance(name) + 12


class StatisticsView(QWidget):
    report_requested = Signal(str)  # "YYYY-MM"

    def __init__(self, today: date, parent: QWidget | None = None):
        super().__init__(parent)
        self.tables: list[dict[str, Any]] = []
        self.month = named(QComboBox(), "statsMonth")
        for value, text in last_months(today):
            self.month.addItem(text, value)
        self.territory = named(QComboBox(), "statsTerritory")
        self.territory.addItem("Tous les territoires", "")
        self.refresh = named(QPushButton("Actualiser"), "statsRefresh")
        self.export = named(QPushButton("Exporter…"), "statsExport")
        self.summary = named(QLabel("Choisissez un mois."), "statsSummary")
        self.summary.setWordWrap(True)
        self.list = named(QListWidget(), "statsTables")
        self.model = QStandardItemModel(self)
        self.view = named(QTableView(), "statsTable")
        self.view.setModel(self.model)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.chart = BarChart()
        controls = QHBoxLayout()
        for w in (self.month, self.territory, self.refresh, self.export):
            controls.addWidget(w)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.view)
        right.addWidget(self.chart)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.list)
        body.addWidget(right)
        body.setSizes([200, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(body, 1)
        self.refresh.clicked.connect(self.request)
        self.month.activated.connect(lambda _i: self.request())
        self.territory.activated.connect(lambda _i: self.show_table())
        self.list.currentRowChanged.connect(lambda _r: self.show_table())
        self.export.clicked.connect(self.ask_export)

    def request(self) -> None:
        self.summary.setText("Calcul du rapport…")
        self.report_requested.emit(self.month.currentData())

    def show_report(self, report: Report) -> None:
        self.tables = [dict(t) for t in report["tables"]]
        self.summary.setText(" · ".join(report["summary"]))
        current = self.territory.currentData()
        self.territory.clear()
        self.territory.addItem("Tous les territoires", "")
        groups = sorted({g for t in self.tables for g in (t.get("groups") or []) if g})
        for g in groups:
            self.territory.addItem(g, g)
        self.territory.setCurrentIndex(max(0, self.territory.findData(current)))
        row = max(0, self.list.currentRow())
        self.list.clear()
        self.list.addItems([t["title"] for t in self.tables])
        self.list.setCurrentRow(min(row, len(self.tables) - 1))

    def current_table(self) -> dict[str, Any] | None:
        row = self.list.currentRow()
        return self.tables[row] if 0 <= row < len(self.tables) else None

    def show_table(self) -> None:
        table = self.current_table()
        self.model.clear()
        if table is None:
            self.chart.set_data([], [])
            return
        cols = visible_columns(table, self.territory.currentData())
        self.model.setHorizontalHeaderLabels([header(table, c) for c in cols])
        emphasis = table.get("emphasis") or []
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(table["rows"]):
            items = [QStandardItem("" if row[c] is None else str(row[c])) for c in cols]
            if r < len(emphasis) and emphasis[r]:
                for item in items:
                    item.setFont(bold)
                    # A see-through blue: light on the day's white, dim on the night's grey,
                    # so a theme switched later needs no repaint of the items.
                    item.setBackground(QColor(21, 101, 192, 40 if emphasis[r] == "week" else 80))
            self.model.appendRow(items)
        self.view.resizeColumnsToContents()
        self._chart(table, cols, emphasis)

    def _chart(self, table: dict[str, Any], cols: list[int], emphasis: list[str]) -> None:
        days = [
            (r, row)
            for r, row in enumerate(table["rows"])
            if not (r < len(emphasis) and emphasis[r])
        ]
        numeric = [
            c
            for c in cols[1:]
            if all(isinstance(row[c], int | float) or row[c] in (None, "") for _r, row in days)
        ]
        # Dossiers and appointments first: published slots are counted in the hundreds
        # and would flatten everything else.
        preferred = [c for c in numeric if "créneau" not in str(table["columns"][c]).lower()]
        numeric = preferred or numeric
        series = [
            (header(table, c).replace("\n", " "), [float(row[c] or 0) for _r, row in days])
            for c in numeric
        ]
        labels = [str(row[0]).split()[-1] if row[0] else "" for _r, row in days]
        self.chart.set_data(labels, series)

    def ask_export(self) -> None:
        table = self.current_table()
        if table is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Exporter le tableau", f"{table['title']}.csv", "CSV (*.csv);;Excel (*.xlsx)"
        )
        if path:
            self.export_to(Path(path), table)

    def export_to(self, path: Path, table: dict[str, Any]) -> None:
        """Write what the desk shows (the territory filter applies)."""
        cols = visible_columns(table, self.territory.currentData())
        rows = [[header(table, c).replace("\n", " — ") for c in cols]]
        rows += [["" if row[c] is None else row[c] for c in cols] for row in table["rows"]]
        if path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            assert ws is not None
            ws.title = table["title"][:31]
            for row in rows:
                ws.append(row)
            wb.save(path)
        else:
            with path.open("w", newline="", encoding="utf-8-sig") as fh:
                csv.writer(fh, delimiter=";").writerows(rows)
        self.summary.setText(f"Exporté : {path}")
