"""``sasdesk report``: the same counted figures in CSV, XLSX and PDF."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main
from tests.stats.room import Room


@pytest.fixture
def june_db(room: Room, db_url: str) -> str:
    room.clock.at(datetime(2023, 6, 1, 7, 0, tzinfo=UTC))  # jeudi 1
    lr = room.doctor("17300")
    slots = room.slots(lr, datetime(2023, 6, 1, 15, 0, tzinfo=UTC), 4)
    d, task = room.snp_task(insee="17028")  # Aytré, La Rochelle
    room.close_task(task, "RDV_CRENEAU", dossier=d, slot=slots[0])
    d, task = room.snp_task()
    room.close_task(task, "RDV_MT", dossier=d)
    ref = room.ring("116117", desks=("n1", "n1b"))
    room.clock.tick(75)
    room.hang_up(ref, "n1", "caller_gave_up")
    room.clock.at(datetime(2023, 6, 6, 8, 0, tzinfo=UTC))  # mardi 6
    d, task = room.snp_task(insee="17369")  # Saint-Martin-de-Ré
    room.close_task(task, "SANS_SOLUTION", reason="PATIENT_REFUSE")
    return db_url


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))


def test_csv_has_a_row_per_open_day_weekly_subtotals_and_the_total(
    june_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "juin.csv"
    assert main(["report", "--db", june_db, "--month", "2023-06", "--out", str(out)]) == 0
    rows = _csv_rows(out)
    header = next(r for r in rows if r[:2] == ["", "Dossier OSNP"])
    groups = rows[rows.index(header) - 1]
    start = rows.index(header) + 1
    table = rows[start : start + 22 + 5 + 1]
    assert [r[0] for r in table][:3] == ["jeudi 1", "vendredi 2", "semaine du 29/05"]
    assert table[-1][0] == "total juin 2023"
    columns = list(zip(groups, header, strict=True))
    by_label = {r[0]: dict(zip(columns, r, strict=True)) for r in table}
    assert by_label["jeudi 1"][("", "Dossier OSNP")] == "2"
    assert by_label["jeudi 1"][("La Rochelle", "Créneaux dispo")] == "4"
    assert by_label["jeudi 1"][("La Rochelle", "RDV")] == "1"
    assert by_label["jeudi 1"][("", "RDV MT")] == "1"
    assert by_label["mardi 6"][("", "Sans solution")] == "1"
    assert by_label["mercredi 7"][("", "Dossier OSNP")] == "0"  # a quiet day is a row
    assert by_label["total juin 2023"][("", "Dossier OSNP")] == "3"
    text = out.read_text(encoding="utf-8-sig")
    assert "abandonnés : 1" in text and "88,0 % décrochés" in text and "objectif 99,0 %" in text


def test_xlsx_holds_the_same_table_with_merged_territory_headers(
    june_db: str, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "juin.xlsx"
    assert main(["report", "--db", june_db, "--month", "2023-06", "--out", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames == [
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
    territories = {
        r[0]: r[1:4]
        for r in wb["Territoires"].iter_rows(values_only=True)
        if r[0] and isinstance(r[1], int)
    }
    assert territories["La Rochelle"] == (2, 2, 0) and territories["Île de Ré"] == (1, 1, 0)
    assert territories["Aunis Sud"] == (0, 0, 0)
    ws = wb["Tableau OSNP"]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    total = next(r for r in values if r[0] == "total juin 2023")
    assert total[1] == 3 and total[2] == 4  # Dossier OSNP, La Rochelle créneaux
    spans = {
        ws.cell(r.min_row, r.min_col).value: r.max_col - r.min_col + 1
        for r in ws.merged_cells.ranges
    }
    assert spans["La Rochelle"] == 2 and spans["Île de Ré"] == 2
    communes = {r[1]: r[2:4] for r in wb["Communes"].iter_rows(values_only=True) if r[1]}
    assert communes["Aytré"] == (1, 0) and communes["La Rochelle"] == (1, 2)


@pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)
def test_pdf_renders_with_the_answering_figures_and_the_tables(
    june_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "juin.pdf"
    assert (
        main(
            ["report", "--db", june_db, "--month", "2023-06", "--format", "pdf", "--out", str(out)]
        )
        == 0
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], check=True, capture_output=True, text=True
    ).stdout
    for needle in (
        "Rapport d'activité SAS – juin 2023",
        "88,0 % décrochés",
        "80,0 % en moins d'une minute",
        "objectif 99,0 %",
        "Appels par jour",
        "Activité OSNP – juin 2023",
        "semaine du 29/05",
        "Orientations et RDV par commune",
        "Taux de transformation",
    ):
        assert needle in text, needle
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3 and all(p.stat().st_size > 5000 for p in pages)


def test_a_bad_month_or_format_is_refused(june_db: str, tmp_path: Path) -> None:
    assert (
        main(["report", "--db", june_db, "--month", "juin", "--out", str(tmp_path / "x.csv")]) == 2
    )
    assert (
        main(["report", "--db", june_db, "--month", "2023-06", "--out", str(tmp_path / "x.docx")])
        == 2
    )
    assert not list(tmp_path.glob("x.*"))


def test_the_supervisor_desk_gets_the_same_tables_over_the_hub(june_db: str, room: Room) -> None:
    from app.domain.rules import FlowError
    from app.stats.report_intent import install

    install(room.service)
    reply = room.send("sup", "stats.report", month="2023-06")["report"]
    monthly = reply["tables"][0]
    assert monthly["columns"][:2] == ["Jour", "Dossier OSNP"]
    total = next(r for r in monthly["rows"] if r[0] == "total juin 2023")
    assert total[1] == 3 and reply["summary"][0].startswith("Appels présentés : 4 ; décrochés : 3")
    with pytest.raises(FlowError) as err:
        room.send("n1", "stats.report", month="2023-06")
    assert err.value.code == "forbidden"
