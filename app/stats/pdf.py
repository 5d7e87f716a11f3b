"""The PDF report: answering figures against the national ones, charts, the tables.

reportlab draws the charts as vector graphics (no matplotlib, no raster step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from app.stats.calendar import PARIS
from app.stats.metrics import NATIONAL_2022
from app.stats.report import Report, Table

BLUE = colors.HexColor("#1F4E9A")
LIGHT = colors.HexColor("#9DB7E0")
RED = colors.HexColor("#C0392B")
GREY = colors.HexColor("#7F8C8D")
WIDTH = int(landscape(A4)[0] - 3 * cm)


def _answering_chart(report: Report) -> Drawing:
    c = report.calls
    labels = ["Objectif", "National 2022, < 1 min", "National 2022, décrochés"]
    values = [report.target, NATIONAL_2022["within_60s"], NATIONAL_2022["answered"]]
    if c.offered:  # no call this month: nothing of ours to compare
        labels += ["Nous, < 1 min", "Nous, décrochés"]
        values += [c.within_60s_rate or 0.0, c.answered_rate or 0.0]
    d = Drawing(WIDTH, 130)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 150, 10, WIDTH - 230, 110
    chart.data = [[v * 100 for v in values]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 10
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 8
    chart.bars[0].fillColor = LIGHT
    for i, colour in enumerate((RED, GREY, GREY, BLUE, BLUE)):
        chart.bars[(0, i)].fillColor = colour
    chart.barLabelFormat = lambda v: f"{v:.1f} %".replace(".", ",")
    chart.barLabels.fontSize = 8
    chart.barLabels.nudge = 14
    d.add(chart)
    return d


def _daily_chart(
    title: str, labels: list[str], series: list[tuple[str, list[int], Any]], stacked: bool = False
) -> Drawing:
    d = Drawing(WIDTH, 190)
    d.add(String(0, 178, title, fontName="Helvetica-Bold", fontSize=10))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 35, 35, WIDTH - 170, 130
    chart.data = [values for _, values, _ in series] or [[0]]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 60
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    if stacked:
        chart.categoryAxis.style = "stacked"
    for i, (_, _, colour) in enumerate(series):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeWidth = 0
    d.add(chart)
    legend = Legend()
    legend.x, legend.y = WIDTH - 125, 150
    legend.fontSize = 8
    legend.colorNamePairs = [(colour, name) for name, _, colour in series]
    d.add(legend)
    return d


def _table(t: Table, font_size: float = 7) -> PdfTable:
    styles = getSampleStyleSheet()
    head_style = styles["BodyText"].clone(
        "head", fontSize=font_size, leading=font_size + 1, fontName="Helvetica-Bold"
    )
    has_label = bool(t.rows) and len(t.rows[0]) == len(t.columns) + 1
    lead: list[Any] = [""] if has_label else []
    header: list[list[Any]] = [lead + [Paragraph(c, head_style) for c in t.columns]]
    if t.groups and any(t.groups):
        header.insert(0, lead + list(t.groups))
    data = header + [["" if v is None else v for v in row] for row in t.rows]
    table = PdfTable(data, repeatRows=len(header))
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
        ("FONT", (0, 0), (-1, len(header) - 1), "Helvetica-Bold", font_size),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ]
    for col in range(len(data[0])):  # numbers to the right, words to the left
        cells = [row[col] for row in data[len(header) :] if row[col] not in ("", None)]
        if cells and all(isinstance(v, int | float) or str(v).endswith("%") for v in cells):
            style.append(("ALIGN", (col, len(header)), (col, -1), "RIGHT"))
    style += [
        ("BACKGROUND", (0, 0), (-1, len(header) - 1), colors.HexColor("#DDE6F4")),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]
    if t.groups and any(t.groups):
        offset = len(lead)
        start = 0
        for i in range(1, len(t.groups) + 1):
            if i == len(t.groups) or t.groups[i] != t.groups[start]:
                if t.groups[start] and i - start > 1:
                    style.append(("SPAN", (start + offset, 0), (i - 1 + offset, 0)))
                    style.append(("ALIGN", (start + offset, 0), (i - 1 + offset, 0), "CENTER"))
                start = i
    for i, kind in enumerate(t.emphasis):
        if kind:
            row = i + len(header)
            style.append(("FONT", (0, row), (-1, row), "Helvetica-Bold", font_size))
            style.append(
                (
                    "BACKGROUND",
                    (0, row),
                    (-1, row),
                    colors.HexColor("#C9D7EE" if kind == "month" else "#EEF2F9"),
                )
            )
    table.setStyle(TableStyle(style))
    return table


def write_pdf(report: Report, path: Path) -> None:
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.2 * cm,
        bottomMargin=1.2 * cm,
        title=f"Rapport d'activité SAS – {report.period.label}",
        author="sasdesk",
    )
    story: list[Any] = [
        Paragraph(f"Rapport d'activité SAS – {report.period.label}", styles["Title"]),
        Paragraph(
            f"Compté à partir du journal des événements du hub, le "
            f"{report.generated_at.astimezone(PARIS):%d/%m/%Y à %H:%M}.",
            styles["Italic"],
        ),
        Paragraph("Décroché", styles["Heading2"]),
    ]
    story += [Paragraph(line, styles["BodyText"]) for line in report.answering_summary()]
    story += [Spacer(0, 6), _answering_chart(report)]
    days = list(report.calls_by_day)
    labels = [f"{d:%d/%m}" for d in days]
    story.append(
        _daily_chart(
            "Appels par jour",
            labels,
            [
                ("Décrochés", [report.calls_by_day[d].answered for d in days], BLUE),
                ("Abandonnés", [report.calls_by_day[d].abandoned for d in days], RED),
            ],
            stacked=True,
        )
    )
    rows = report.monthly.days()
    rdv_keys = [c.key for c in report.monthly.columns if c.key.startswith("rdv")]
    story.append(PageBreak())
    story.append(
        _daily_chart(
            "Recherches confiées à l'OSNP et RDV obtenus, par jour ouvré",
            [f"{r.day:%d/%m}" for r in rows if r.day],
            [
                ("Dossiers OSNP", [r.values["dossiers_osnp"] for r in rows], LIGHT),
                ("RDV", [sum(r.values[k] for k in rdv_keys) for r in rows], BLUE),
            ],
        )
    )
    tables = report.tables()
    story += [
        Paragraph(tables[0].title, styles["Heading2"]),
        _table(tables[0], 6.5),
        Paragraph(tables[0].note, styles["Italic"]),
    ]
    story.append(PageBreak())
    for t in tables[1:]:
        block = [Paragraph(t.title, styles["Heading2"]), _table(t)]
        if t.note:
            block.append(Paragraph(t.note, styles["Italic"]))
        story.append(KeepTogether(block) if len(t.rows) < 40 else block[0])
        if len(t.rows) >= 40:
            story += block[1:]
        story.append(Spacer(0, 8))
    doc.build(story)
