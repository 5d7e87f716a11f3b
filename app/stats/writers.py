"""CSV and XLSX writers of the report's tables (the PDF has its own module)."""

from __future__ import annotations

import csv
from pathlib import Path

from app.stats.report import Report, Table


def _header_rows(table: Table) -> list[list[str]]:
    first = [""] if table.rows and len(table.rows[0]) == len(table.columns) + 1 else []
    rows = []
    if table.groups and any(table.groups):
        rows.append(first + list(table.groups))
    rows.append(first + list(table.columns))
    return rows


def write_csv(report: Report, path: Path) -> None:
    """One file, the tables one after the other; ';' and a BOM, as French Excel expects."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow([f"sasdesk – rapport d'activité – {report.period.label}"])
        for line in report.answering_summary():
            out.writerow([line])
        for table in report.tables():
            out.writerow([])
            out.writerow([table.title])
            out.writerows(_header_rows(table))
            out.writerows(["" if v is None else v for v in row] for row in table.rows)
            if table.note:
                out.writerow([table.note])


def write_xlsx(report: Report, path: Path) -> None:
    """One sheet per table; subtotal rows in bold, territory groups as merged headers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    shade = {
        "week": PatternFill("solid", fgColor="E8EEF7"),
        "month": PatternFill("solid", fgColor="C9D7EE"),
    }
    sheet_names = [
        "Tableau OSNP",
        "Communes",
        "Décroché",
        "Dossiers",
        "Territoires",
        "OSNP",
        "Professions",
        "Créneaux",
        "Inscription SAS",
        "Comparaison régionale",
        "RDV par effecteur",
        "RDV par CPTS",
        "RDV par jour",
    ]
    for name, table in zip(sheet_names, report.tables(), strict=True):
        ws = wb.create_sheet(name)
        ws.append([table.title])
        ws["A1"].font = Font(bold=True, size=13)
        if name == "Décroché":
            for line in report.answering_summary():
                ws.append([line])
        header_at = ws.max_row + 1
        for header in _header_rows(table):
            ws.append(header)
            for cell in ws[ws.max_row]:
                cell.font = bold
                cell.alignment = Alignment(horizontal="center", wrap_text=True)
        if table.groups and any(table.groups):
            _merge_groups(ws, header_at, table)
        for i, row in enumerate(table.rows):
            ws.append(row)
            kind = table.emphasis[i] if i < len(table.emphasis) else ""
            if kind:
                for cell in ws[ws.max_row]:
                    cell.font = bold
                    cell.fill = shade[kind]
        if table.note:
            ws.append([])
            ws.append([table.note])
        ws.freeze_panes = ws.cell(row=header_at + len(_header_rows(table)), column=2)
        for col in range(1, ws.max_column + 1):
            ws.column_dimensions[get_column_letter(col)].width = 22 if col == 1 else 14
    wb.save(path)


def _merge_groups(ws: object, row: int, table: Table) -> None:
    assert table.groups is not None
    offset = 2 if table.rows and len(table.rows[0]) == len(table.columns) + 1 else 1
    start = 0
    for i in range(1, len(table.groups) + 1):
        if i == len(table.groups) or table.groups[i] != table.groups[start]:
            if table.groups[start] and i - start > 1:
                ws.merge_cells(  # type: ignore[attr-defined]
                    start_row=row,
                    end_row=row,
                    start_column=start + offset,
                    end_column=i - 1 + offset,
                )
            start = i
