"""The command line: imports with their report and exit code, and the slots bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main

DATA = Path(__file__).with_name("data")


def test_import_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["import", "effecteurs", str(DATA / "effecteurs_latin1.csv"), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2 ligne(s) acceptée(s)" in out
    assert "rejetée  ligne 4 : RPPS 10101010101 en double" in out
    assert main(["import", "slots", str(DATA / "bundle.json"), "--db", db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # f1 is reserved to a CPTS that the Bundle does not name: rejected, not shown to all.
    assert report["accepted"] == 2 and len(report["rejected"]) == 4 and report["committed"]
    assert main(["import", "slots", str(DATA / "bundle.json"), "--db", db, "--strict"]) == 1
    assert "import annulé, rien n'a été modifié" in capsys.readouterr().out
    assert main(["import", "slots", str(DATA / "agenda.ics"), "--db", db]) == 1
    assert "--rpps" in capsys.readouterr().out
    ics = str(DATA / "agenda_horizon.ics")
    assert main(["import", "slots", ics, "--db", db, "--rpps", "10101010101",
                 "--horizon-weeks", "2"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "non importé événement cancelled@test : annulé (STATUS:CANCELLED)" in out
    assert "au-delà de l'horizon de 2 semaine(s)" in out


def test_bench_slots_small_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "bench",
                "slots",
                "--effecteurs",
                "150",
                "--hours",
                "48",
                "--searches",
                "40",
                "--baseline-searches",
                "15",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["effecteurs"] == 150 and out["slots"] > 3000 and out["searches"] == 40
    assert out["baseline_same_ranking"] == "15/15"
    assert out["import"]["rejected"] == 0 and out["import"]["fhir_slots"] > 0
    assert set(out["engine_ms"]) >= {"p50", "p95"} and out["ratio_p95"] > 0
    # The Nord cut into CPTS zones: every search's commune has its CPTS block.
    assert out["cpts"]["count"] > 20 and out["cpts"]["searches_with_cpts"] == 40
