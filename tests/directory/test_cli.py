"""The command line: imports with their report and exit code, and the slots bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from tests.directory.rpps_files import at, person, write

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


def test_import_rpps_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    place = at("17300", "17000", "La Rochelle", "R1", "DU PALAIS")
    rows = [
        person("10000000001", "MOINARD", "Anne", **place),
        person("10000000002", "ROUX", "Paul", **at("99999", "17000", "X", "R2")),
        person(
            "10000000003",
            "PETIT",
            "Léa",
            **{**place, "Code profession": "93", "Libellé profession": "Psychologue"},
        ),  # fmt: skip
    ]
    path = write(tmp_path / "PS_LibreAcces_202612010000.zip", rows, zipped=True)
    # As the documentation shows it (docs/directory.md).
    assert main(["import", "rpps", str(path), "--db", db]) == 0
    captured = capsys.readouterr()
    assert "1 ligne(s) acceptée(s) (1 créée(s)" in captured.out
    assert "encodage : utf-8" in captured.out
    assert "rejetée  ligne 3 : RPPS 10000000002 : code commune INSEE « 99999 » inconnu" in (
        captured.out
    )
    assert "non importé 1 ligne(s), la première ligne 4 : profession non importée : " in (
        captured.out
    )
    assert "100 %" in captured.err  # the progress bar, on stderr
    assert main(["import", "rpps", str(path), "--db", db, "--professions", "toutes",
                 "--json"]) == 0  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["deactivated"], report["skipped"]) == (1, 0, [])
    broken = tmp_path / "broken.zip"
    broken.write_bytes(path.read_bytes()[:100])
    assert main(["import", "rpps", str(broken), "--db", db]) == 1
    assert "tronquée" in capsys.readouterr().out


def test_bench_directory_small_run(capsys: pytest.CaptureFixture[str]) -> None:
    # As docs/directory.md shows it, small.
    argv = ["bench", "directory", "--rows", "20000", "--doctors", "2000", "--json"]
    assert main([*argv, "--searches", "60", "--baseline-searches", "6"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 20000 and out["import"]["created"] > 10000
    assert out["import"]["rejected"] == 0 and out["import"]["encoding"] == "utf-8"
    assert out["slots"] > 0 and out["searches"] == 60 and out["index"]["rss_mib"] > 0
    assert out["baseline_same_ranking"] == "6/6"
    assert out["engine_ms"]["p95"] > 0 and out["ratio_p95"] > 0
