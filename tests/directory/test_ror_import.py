"""The ROR's CPTS and intervention zones from a file (Bundle and $export NDJSON): bad
resources rejected and reported, nothing else lost, a re-import replaces a zone, a
failed import changes nothing; FHIR slots of a CPTS known by its FINESS resolve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from app.directory.imports.ror import import_ror
from app.directory.imports.slots import import_slots
from app.directory.models import Slot, Structure
from tests.directory.conftest import NOW
from tests.directory.test_imports_lossless import _hérault

DATA = Path(__file__).with_name("data")

REJECTED = {
    "HealthcareService/hs-nozone": "aucune zone d'intervention (extension "
    "ror-territorial-division)",
    "HealthcareService/hs-badzone": "zone d'intervention : 17999 n'est pas une commune",
    "HealthcareService/hs-orphan": "organisation Organization/absent absente du fichier",
}
SKIPPED = {
    "HealthcareService/hs-msp": "« MSP Les Salines » n'est pas une CPTS",
    "Location/loc-1": "ressource non utilisée pour les zones des CPTS",
    "Organization/org-lonely": "organisation sans offre (HealthcareService) dans le fichier",
}


def _structures(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str, list[str], str]]:
    with sessions() as s:
        return {
            x.name: (x.kind, x.national_id or "", list(x.communes or []), x.snp_phone)
            for x in s.scalars(select(Structure))
        }


def test_bundle_gives_cpts_zones_and_phones_and_reports_the_rest(
    sessions: sessionmaker[Session],
) -> None:
    report = import_ror(sessions, DATA / "ror_cpts.json")
    assert report.committed, report.aborted
    assert dict(report.rejected) == REJECTED
    assert dict(report.skipped) == SKIPPED
    assert (report.accepted, report.created, report.updated) == (2, 2, 0)
    assert _structures(sessions) == {
        # idNatStruct "1" + FINESS: stored as the FINESS; the SNP unit's contact phone.
        "CPTS La Rochelle": ("CPTS", "170000001", ["17028", "17274", "17300"], "0546000015"),
        "Communauté Professionnelle Territoriale de Santé de l'Axe Majeur": (
            "CPTS", "950047225", ["95018", "95127", "95500"], "0130303030",
        ),
    }  # fmt: skip


def test_ndjson_export_same_result_and_a_broken_line_is_reported(
    sessions: sessionmaker[Session],
) -> None:
    report = import_ror(sessions, DATA / "ror_cpts.ndjson")
    assert report.committed, report.aborted
    assert dict(report.rejected) == {
        **REJECTED,
        "ligne 4": "JSON invalide : Unterminated string starting at",
    }
    assert dict(report.skipped) == SKIPPED
    assert set(_structures(sessions)) == {
        "CPTS La Rochelle",
        "Communauté Professionnelle Territoriale de Santé de l'Axe Majeur",
    }


def test_reimport_replaces_the_zone_of_a_cpts_known_by_name(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:  # typed in by hand before the ROR: matched by its name
        s.add(Structure(kind="CPTS", name="CPTS La Rochelle", communes=["17094"]))
    first = import_ror(sessions, DATA / "ror_cpts.json")
    assert (first.created, first.updated) == (1, 1)
    again = import_ror(sessions, DATA / "ror_cpts_zone_changed.json")
    assert (again.accepted, again.updated, again.rejected) == (1, 1, [])
    got = _structures(sessions)
    assert got["CPTS La Rochelle"] == ("CPTS", "170000001", ["17200", "17300"], "0546999915")
    assert len(got) == 2  # the Axe Majeur, absent from the second file, is kept


def test_a_file_that_is_no_fhir_changes_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    import_ror(sessions, DATA / "ror_cpts.json")
    before = _structures(sessions)
    for name, text in (
        ("slot.json", json.dumps({"resourceType": "Bundle", "entry": "x"})[:-3]),
        ("list.json", "[1, 2]"),
        ("empty.ndjson", "\n\n"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        report = import_ror(sessions, path)
        assert not report.committed and report.aborted, name
        assert report.accepted == 0
    assert _structures(sessions) == before
    # Strict: one rejected resource cancels the whole file, the zone stays as it was.
    report = import_ror(sessions, DATA / "ror_cpts_zone_changed.json")
    assert report.committed
    strict = import_ror(sessions, DATA / "ror_cpts.json", strict=True)
    assert not strict.committed and "3 ligne(s) rejetée(s)" in strict.aborted
    assert _structures(sessions)["CPTS La Rochelle"][2] == ["17200", "17300"]


def test_fhir_slots_of_a_cpts_known_from_the_ror_resolve_by_finess(
    sessions: sessionmaker[Session],
) -> None:
    _hérault(sessions)
    before = import_slots(sessions, DATA / "bundle_cpts.json", now=NOW)
    assert "Slot/c2" in dict(before.rejected)  # the Axe Majeur: not typed in, unknown
    import_ror(sessions, DATA / "ror_cpts.json")
    after = import_slots(sessions, DATA / "bundle_cpts.json", now=NOW)
    assert after.committed, after.aborted
    # Its Organization is named "CPTS Axe Majeur" in the editor's Bundle but carries the
    # FINESS (idNatStruct 1950047225) the ROR gave: resolved by identifier, not by name.
    assert "Slot/c2" not in dict(after.rejected)
    assert not [w for w, _ in after.warnings if w == "Slot/c5"]
    with sessions() as s:
        axe = s.scalar(select(Structure.id).where(Structure.national_id == "950047225"))
        lr = s.scalar(select(Structure.id).where(Structure.national_id == "170000001"))
        got = {
            x.source_ref: (x.visibility, x.structure_id)
            for x in s.scalars(select(Slot).where(Slot.source == "fhir"))
        }
    assert got["c2"] == ("CPTS", axe) and got["c5"] == ("PUBLIC", axe)
    assert got["c1"] == ("CPTS", lr)


def test_import_ror_command(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "ror", str(DATA / "ror_cpts.ndjson"), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "2 ligne(s) acceptée(s) (2 créée(s), 0 mise(s) à jour), 4 rejetée(s)" in out
    assert "rejetée  HealthcareService/hs-badzone : zone d'intervention : 17999" in out
    assert "non importé Location/loc-1" in out
    assert main(["import", "ror", str(DATA / "ror_cpts.json"), "--db", db_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["updated"] == 2


def test_two_cpts_of_one_name_with_different_ids_keep_the_first(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    lines = (DATA / "ror_cpts.ndjson").read_text(encoding="utf-8").splitlines()[:2]
    twin = lines[0].replace('"org-lr"', '"org-twin"').replace("1170000001", "1170000002")
    offer = lines[1].replace('"hs-lr-snp"', '"hs-twin"').replace("org-lr", "org-twin")
    path = tmp_path / "twins.ndjson"
    path.write_text("\n".join([*lines, twin, offer]) + "\n", encoding="utf-8")
    report = import_ror(sessions, path)
    assert report.committed and (report.accepted, report.created) == (1, 1)
    assert dict(report.rejected) == {
        "HealthcareService/hs-twin": "« CPTS La Rochelle » : une autre structure de ce nom "
        "a l'identifiant 170000001"
    }
    assert _structures(sessions)["CPTS La Rochelle"][1] == "170000001"


def test_malformed_resources_are_rejected_not_a_crash(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    good = (DATA / "ror_cpts.ndjson").read_text(encoding="utf-8").splitlines()[:2]
    odd = [
        # providedBy written as a bare string, extension as one object, not lists.
        {"resourceType": "HealthcareService", "id": "x1", "providedBy": "Organization/org-lr"},
        {"resourceType": "HealthcareService", "id": "x2",
         "providedBy": {"reference": "Organization/org-lr"},
         "extension": {"url": "ror-territorial-division"}},
        {"id": "no-type"},
    ]  # fmt: skip
    path = tmp_path / "odd.ndjson"
    path.write_text("\n".join([*good, *map(json.dumps, odd)]) + "\n", encoding="utf-8")
    report = import_ror(sessions, path)
    assert report.committed and report.accepted == 1
    why = dict(report.rejected)
    assert why.pop("ligne 5") == "pas une ressource FHIR (resourceType absent)"
    assert set(why) == {"HealthcareService/x1", "HealthcareService/x2"}
    assert all(w.startswith("ressource mal formée (AttributeError") for w in why.values())
    assert _structures(sessions)["CPTS La Rochelle"][2] == ["17028", "17274", "17300"]
