"""SAS registration rate per department (seed 001's table): GPs taking part over GPs
installed, with the participation mode columns, in the report (CSV, XLSX, PDF) and in
the hub's ``stats.report`` the supervisor's desk shows."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from app.directory.models import Effecteur, Practice, bump_revision
from app.hub.auth import Principal
from app.stats.registration import registration_rates
from tests.flow.flow_helpers import Actor
from tests.stats.room import Room

# (rpps, profession, specialty, participant, mode, active, communes of practice)
DOCTORS = [
    ("10000000001", "Médecin", "Médecine générale", True, "individuel", True, ["17300"]),
    ("10000000002", "Médecin", "Médecine générale", True, "CPTS", True, ["17028"]),
    ("10000000003", "Médecin", "SM54", True, "SOS Médecins", True, ["17300"]),
    ("10000000004", "Médecin", "Médecine générale", False, "individuel", True, ["17300"]),
    ("10000000005", "Médecin", "Médecine Générale", False, "CPTS", True, ["17200"]),
    # Practises in Niort and La Rochelle: installed (and registered) in both departments.
    ("10000000006", "Médecin", "Médecine générale", True, "MSP", True, ["79191", "17300"]),
    ("10000000007", "Médecin", "Médecine générale", False, "individuel", True, ["79191"]),
    ("10000000008", "Médecin", "Médecine générale", True, "individuel", False, ["17300"]),
    ("10000000009", "Médecin", "Pédiatrie", True, "individuel", True, ["17300"]),
    ("10000000010", "Infirmier", "", True, "individuel", True, ["17300"]),
]


def _directory(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        rev = bump_revision(s)
        for rpps, prof, spec, sas, mode, active, communes in DOCTORS:
            e = Effecteur(
                rpps=rpps, last_name=f"Dr{rpps[-2:]}", profession=prof, specialty=spec,
                sas_participant=sas, mode=mode, active=active, rev=rev,
            )  # fmt: skip
            e.practices = [Practice(commune_insee=c) for c in communes]
            s.add(e)


def test_rate_per_department_counts_active_gps_and_their_modes(
    sessions: sessionmaker[Session],
) -> None:
    _directory(sessions)
    with sessions() as s:
        rows = {r.department: r for r in registration_rates(s)}
    assert set(rows) == {"17", "79"}
    assert (rows["17"].registered, rows["17"].installed) == (4, 6)
    assert dict(rows["17"].by_mode) == {"individuel": 1, "CPTS": 1, "SOS Médecins": 1, "MSP": 1}
    assert rows["17"].rate == pytest.approx(4 / 6)
    assert (rows["79"].registered, rows["79"].installed, dict(rows["79"].by_mode)) == (
        1, 2, {"MSP": 1},
    )  # fmt: skip


@pytest.fixture
def june(room: Room, db_url: str) -> str:
    room.clock.at(datetime(2023, 6, 1, 7, 0, tzinfo=UTC))
    _directory(room.sessions)
    return db_url


SEED_COLUMNS = [
    "Département", "Médecins inscrits", "Médecins installés", "Taux d'inscription",
    "Participant SAS individuel", "Participant SAS via MSP", "Participant SAS via CPTS",
    "Participant SAS via SOS Médecins", "Participant SAS via centre de santé",
]  # fmt: skip


def test_report_csv_and_xlsx_have_the_registration_table(june: str, tmp_path: Path) -> None:
    out = tmp_path / "juin.csv"
    assert main(["report", "--db", june, "--month", "2023-06", "--out", str(out)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    at = rows.index(["Médecins inscrits au SAS par département"])
    assert rows[at + 1] == SEED_COLUMNS
    assert rows[at + 2] == ["17", "4", "6", "66,7 %", "1", "1", "1", "1", "0"]
    assert rows[at + 3] == ["79", "1", "2", "50,0 %", "0", "1", "0", "0", "0"]

    from openpyxl import load_workbook

    xlsx = tmp_path / "juin.xlsx"
    assert main(["report", "--db", june, "--month", "2023-06", "--out", str(xlsx)]) == 0
    ws = load_workbook(xlsx)["Inscription SAS"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert SEED_COLUMNS in values
    assert ["17", 4, 6, "66,7 %", 1, 1, 1, 1, 0] in values


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_report_pdf_has_the_registration_table(june: str, tmp_path: Path) -> None:
    out = tmp_path / "juin.pdf"
    args = ["report", "--db", june, "--month", "2023-06", "--format", "pdf", "--out", str(out)]
    assert main(args) == 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Médecins inscrits au SAS par département" in text
    assert "66,7 %" in text


def test_stats_report_intent_tells_the_seed_sentence(
    room: Room, people: dict[str, Principal]
) -> None:
    from app.stats.report_intent import install

    install(room.service)
    _directory(room.sessions)
    report = Actor(room.service, people["sup"]).send("stats.report", month="2023-06")["report"]
    assert (
        "Département 17 : 4 médecin(s) inscrit(s) au SAS = 66,7 % des 6 médecin(s) "
        "généraliste(s) installé(s)" in report["summary"]
    )
    table = next(
        t for t in report["tables"] if t["title"] == "Médecins inscrits au SAS par département"
    )
    assert table["columns"] == SEED_COLUMNS
    assert table["rows"][0] == ["17", 4, 6, "66,7 %", 1, 1, 1, 1, 0]
