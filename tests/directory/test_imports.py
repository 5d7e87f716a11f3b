"""Imports from real-world files: Latin-1 spreadsheet CSV, .ics with time zones and
recurrences, a FHIR bundle with missing references; a broken file changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.effecteurs import import_effecteurs
from app.directory.imports.slots import import_slots
from app.directory.models import Effecteur, RecurringAvailability, Slot
from app.directory.vocab import PARIS
from tests.directory.conftest import NOW

DATA = Path(__file__).with_name("data")


def _effecteurs(sessions: sessionmaker[Session]) -> None:
    report = import_effecteurs(sessions, DATA / "effecteurs_latin1.csv", now=NOW)
    assert report.committed


def count(sessions: sessionmaker[Session], model: type, source: str | None = None) -> int:
    with sessions() as s:
        q = select(func.count()).select_from(model)
        if source is not None:
            q = q.where(Slot.source == source)
        return int(s.scalar(q) or 0)


def test_latin1_spreadsheet_with_bad_rows_and_duplicate_rpps(
    sessions: sessionmaker[Session],
) -> None:
    report = import_effecteurs(sessions, DATA / "effecteurs_latin1.csv")
    assert report.encoding == "windows-1252"
    assert (report.accepted, report.created) == (2, 2)
    reasons = dict(report.rejected)
    assert reasons["ligne 4"] == "RPPS 10101010101 en double (déjà ligne 2)"
    assert "11 chiffres" in reasons["ligne 5"]
    assert "commune introuvable" in reasons["ligne 6"]
    assert "ni oui ni non" in reasons["ligne 7"]
    assert any("1 à 2 consultations par jour" in why for _, why in report.warnings)
    with sessions() as s:
        e = s.scalar(select(Effecteur).where(Effecteur.rpps == "10101010101"))
        assert e is not None and e.last_name == "Hérault" and e.skills == ["pédiatrie", "sutures"]
        assert e.agenda_level == "visibility" and e.phone_direct == "0612345678"
        assert e.practices[0].commune_name == "La Rochelle"
        other = s.scalar(select(Effecteur).where(Effecteur.rpps == "10101010102"))
        assert other is not None and other.practices[0].commune_insee == "17300"  # by postcode
        assert s.scalar(select(func.count(RecurringAvailability.id))) == 2
    again = import_effecteurs(sessions, DATA / "effecteurs_latin1.csv")
    assert (again.created, again.updated) == (0, 2)
    assert count(sessions, Effecteur) == 2


def test_strict_mode_and_broken_file_change_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    report = import_effecteurs(sessions, DATA / "effecteurs_latin1.csv", strict=True)
    assert not report.committed and "strict" in report.aborted
    assert count(sessions, Effecteur) == 0
    broken = tmp_path / "broken.csv"
    broken.write_text("numero;name\n1;2\n", encoding="utf-8")
    report = import_effecteurs(sessions, broken)
    assert "colonne(s) obligatoire(s) absente(s) : rpps, nom" in report.aborted
    assert count(sessions, Effecteur) == 0


def test_slots_csv(sessions: sessionmaker[Session]) -> None:
    _effecteurs(sessions)
    report = import_slots(sessions, DATA / "slots.csv", now=NOW)
    assert (report.accepted, len(report.rejected)) == (3, 4)
    reasons = dict(report.rejected)
    assert "inconnu de l'annuaire" in reasons["ligne 5"]
    assert reasons["ligne 6"] == "la fin précède le début"
    assert "illisible" in reasons["ligne 7"] and "chirurgie" in reasons["ligne 8"]
    with sessions() as s:
        rng = s.scalar(select(Slot).where(Slot.source_ref == "ext-1"))
        assert rng is not None and rng.capacity == 5 and rng.is_range and rng.visibility == "CPTS"
        assert rng.start == datetime(2026, 11, 23, 15, 45, tzinfo=UTC)  # 16:45 Paris
    again = import_slots(sessions, DATA / "slots.csv", now=NOW)
    assert (again.created, again.updated) == (0, 3)
    assert count(sessions, Slot, "csv") == 3


def test_ics_with_time_zones_recurrence_and_exdate(sessions: sessionmaker[Session]) -> None:
    _effecteurs(sessions)
    assert "--rpps" in import_slots(sessions, DATA / "agenda.ics", now=NOW).aborted
    report = import_slots(
        sessions, DATA / "agenda.ics", rpps="10101010101", now=NOW, horizon=timedelta(hours=72)
    )
    assert report.committed, report.aborted
    with sessions() as s:
        slots = s.scalars(select(Slot).where(Slot.source == "ics").order_by(Slot.start)).all()
    local = [
        (x.start.astimezone(PARIS).strftime("%a %d %H:%M"), x.consultation_type, x.capacity)
        for x in slots
    ]
    # Horizon 72 h from Mon 23 10:00 Paris: daily 12:15 on Mon, Wed (Tue is an EXDATE).
    assert local == [
        ("Mon 23 12:15", "cabinet", 1),
        ("Tue 24 16:45", "cabinet", 5),
        ("Wed 25 12:15", "cabinet", 1),
        ("Wed 25 19:00", "teleconsultation", 1),
    ]
    assert [w for w, _ in report.rejected] == ["événement allday@test"]


def test_fhir_bundle_with_missing_references(sessions: sessionmaker[Session]) -> None:
    _effecteurs(sessions)
    report = import_slots(sessions, DATA / "bundle.json", now=NOW)
    assert report.accepted == 2
    reasons = dict(report.rejected)
    assert reasons["Slot/f1"].startswith("créneau réservé à une CPTS dont la CPTS est introuvable")
    assert reasons["Slot/f4"] == (
        "référence manquante : PractitionerRole/r-missing absent(s) du Bundle"
    )
    assert reasons["Slot/f5"] == "référence manquante : Schedule/s-missing absent du Bundle"
    assert "free" in reasons["Slot/f6"]
    with sessions() as s:
        got = {
            x.source_ref: (x.consultation_type, x.visibility)
            for x in s.scalars(select(Slot).where(Slot.source == "fhir"))
        }
    assert got == {
        "f2": ("teleconsultation", "SNP"),
        "f3": ("visite", "PRO"),
    }


def test_not_a_bundle_changes_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _effecteurs(sessions)
    bad = tmp_path / "x.json"
    bad.write_text('{"resourceType": "Patient"}', encoding="utf-8")
    assert "Bundle" in import_slots(sessions, bad, now=NOW).aborted
    truncated = tmp_path / "t.json"
    truncated.write_text((DATA / "bundle.json").read_text(encoding="utf-8")[:500])
    assert "JSON invalide" in import_slots(sessions, truncated, now=NOW).aborted
    assert count(sessions, Slot, "fhir") == 0


def test_weekly_availabilities_become_slots_and_reimport_replaces_them(
    sessions: sessionmaker[Session],
) -> None:
    import_effecteurs(sessions, DATA / "effecteurs_latin1.csv", now=NOW)
    with sessions() as s:
        made = s.scalars(
            select(Slot).where(Slot.source == "text", Slot.status == "open").order_by(Slot.start)
        ).all()
    # "Mardi 15h30à16h30" (Éloi): Tue 24 Nov, four 15-minute slots, Paris time.
    # "Vendredi 16h-18h" (Hérault) is beyond the 72 h from Monday 10:00.
    assert [x.start.astimezone(PARIS).strftime("%a %H:%M") for x in made] == [
        "Tue 15:30",
        "Tue 15:45",
        "Tue 16:00",
        "Tue 16:15",
    ]
    import_effecteurs(sessions, DATA / "effecteurs_latin1.csv", now=NOW)
    with sessions() as s:
        assert len(s.scalars(select(Slot).where(Slot.status == "open")).all()) == 4


def test_progress_is_reported_for_the_desk(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _effecteurs(sessions)
    big = tmp_path / "many.csv"
    lines = ["rpps;debut;fin;capacite"]
    for i in range(1200):
        start = datetime(2026, 11, 24, 8, 0) + timedelta(minutes=i)
        end = start + timedelta(minutes=15)
        lines.append(f"10101010101;{start:%d/%m/%Y %H:%M};{end:%d/%m/%Y %H:%M};1")
    big.write_text("\n".join(lines), encoding="utf-8")
    seen: list[tuple[int, int]] = []
    report = import_slots(sessions, big, now=NOW, progress=lambda d, t: seen.append((d, t)))
    assert report.accepted == 1200
    assert seen == [(0, 1200), (500, 1200), (1000, 1200), (1200, 1200)]
