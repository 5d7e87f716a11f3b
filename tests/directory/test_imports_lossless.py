"""Imports that lose nothing: every column, commune, agenda instance and CPTS link a
file from the field carries is imported or named in the report, never dropped or
guessed. Each case has its own file in tests/directory/data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import User
from app.directory.hub import install
from app.directory.imports.effecteurs import import_effecteurs
from app.directory.imports.slots import import_slots
from app.directory.models import (
    Effecteur,
    RecurringAvailability,
    Slot,
    Structure,
    StructureMember,
    Unavailability,
)
from app.directory.vocab import PARIS
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.directory.conftest import NOW
from tests.flow.flow_helpers import Actor

DATA = Path(__file__).with_name("data")


def test_french_column_spellings_are_read_and_an_unknown_column_reported(
    sessions: sessionmaker[Session],
) -> None:
    report = import_effecteurs(sessions, DATA / "effecteurs_fr_headers.csv", now=NOW)
    assert report.committed, report.aborted
    assert (
        "en-tête",
        "colonne « Email » inconnue : ignorée (colonnes lues : rpps, nom, "
        "prenom, profession, specialite, tel_direct, tel_secretariat, cabinet, adresse, "
        "commune_insee, code_postal, commune, participant_sas, hors_dispo, mode, "
        "logiciel, niveau_agenda, competences, conditions, structure, disponibilites)",
    ) in report.warnings
    with sessions() as s:
        aubry = s.scalar(select(Effecteur).where(Effecteur.rpps == "10101010201"))
        assert aubry is not None and aubry.first_name == "Claire"
        assert (aubry.phone_direct, aubry.phone_secretary) == ("0611223344", "0546112233")
        assert aubry.sas_participant and aubry.practices[0].commune_name == "Puilboreau"
        durand = s.scalar(select(Effecteur).where(Effecteur.rpps == "10101010204"))
        assert durand is not None and durand.practices[0].commune_insee == "17300"
        # "Lundi 14h/16h" and "Mardi 9h / 11h (2 patients)": "/" between times is a range.
        rules = {
            (tuple(r.weekdays), r.start_minute, r.end_minute, r.capacity)
            for r in s.scalars(select(RecurringAvailability))
        }
    assert rules == {((0,), 840, 960, 1), ((1,), 540, 660, 2), ((3,), 960, 1020, 1)}


def test_a_shared_postal_code_without_commune_is_rejected_with_the_candidates(
    sessions: sessionmaker[Session],
) -> None:
    report = import_effecteurs(sessions, DATA / "effecteurs_fr_headers.csv", now=NOW)
    reasons = dict(report.rejected)
    assert reasons["ligne 3"] == (
        "code postal 17138 partagé par 2 communes, aucune nommée : précisez la colonne "
        "commune ou commune_insee (Puilboreau (17291), Saint-Xandre (17414))"
    )
    assert reasons["ligne 4"].startswith(
        "commune « Dompierre » absente du code postal 17220 (communes de ce code : Bourgneuf "
        "(17059), Clavette (17109), Croix-Chapeau (17136), "
    )
    assert (report.accepted, len(report.rejected)) == (2, 2)
    with sessions() as s:
        assert s.scalar(select(Effecteur).where(Effecteur.rpps == "10101010202")) is None


def test_two_columns_for_one_field_are_reported(sessions: sessionmaker[Session]) -> None:
    report = import_effecteurs(sessions, DATA / "effecteurs_tel.csv", now=NOW)
    assert report.accepted == 1
    assert ("en-tête", "colonne « portable » en double : seule la première est lue") in (
        report.warnings
    )


def _hérault(sessions: sessionmaker[Session]) -> None:
    assert import_effecteurs(sessions, DATA / "effecteurs_latin1.csv", now=NOW).committed


def test_ics_keeps_four_weeks_reports_the_rest_and_reads_absences(
    sessions: sessionmaker[Session],
) -> None:
    _hérault(sessions)
    report = import_slots(sessions, DATA / "agenda_horizon.ics", rpps="10101010101", now=NOW)
    assert report.committed, report.aborted
    with sessions() as s:
        starts = [
            x.start.astimezone(PARIS).strftime("%d/%m %H:%M")
            for x in s.scalars(select(Slot).where(Slot.source == "ics").order_by(Slot.start))
        ]
        away = [
            (u.start.astimezone(PARIS).strftime("%d/%m %H:%M"),
             u.end.astimezone(PARIS).strftime("%d/%m %H:%M"), u.reason)
            for u in s.scalars(select(Unavailability).order_by(Unavailability.start))
        ]  # fmt: skip
    # Every Tuesday 17:45 from Mon 23 Nov 10:00 to Mon 21 Dec 10:00 (4 weeks).
    assert starts == ["24/11 17:45", "01/12 17:45", "08/12 17:45", "15/12 17:45"]
    assert away == [("26/11 14:00", "26/11 19:00", "Congés"),
                    ("01/12 00:00", "03/12 00:00", "Absent")]  # fmt: skip
    assert report.skipped == [
        ("composant VTODO", "seuls les VEVENT sont des créneaux"),
        ("événement weekly-tue@test", "6 occurrence(s) passée(s), la dernière le 17/11/2026 17:45"),
        ("événement weekly-tue@test",
         "occurrences à partir du 22/12/2026 17:45 au-delà de l'horizon de 4 semaine(s)"),
        ("événement far@test", "le 15/01/2027 10:00, au-delà de l'horizon de 4 semaine(s)"),
        ("événement past@test", "passé (le 20/11/2026 10:00)"),
        ("événement cancelled@test", "annulé (STATUS:CANCELLED)"),
    ]  # fmt: skip
    assert report.rejected == [
        ("événement seminar@test", "événement sur la journée entière « Séminaire » : ni "
         "créneau ni absence (« absent », « congés »…) : non importé"),
    ]  # fmt: skip
    assert (report.created, report.accepted) == (6, 6)
    again = import_slots(sessions, DATA / "agenda_horizon.ics", rpps="10101010101", now=NOW)
    assert (again.created, again.updated) == (0, 6)
    shorter = import_slots(
        sessions, DATA / "agenda_horizon.ics", rpps="10101010101", now=NOW,
        horizon=timedelta(weeks=1),
    )  # fmt: skip
    assert (
        "événement weekly-tue@test",
        "occurrences à partir du 01/12/2026 17:45 au-delà de l'horizon de 1 semaine(s)",
    ) in shorter.skipped


def test_search_still_shows_72_hours_of_a_four_week_agenda(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    _hérault(sessions)
    import_slots(sessions, DATA / "agenda_horizon.ics", rpps="10101010101", now=NOW)
    service = FlowService(sessions, clock=lambda: NOW)
    install(service)
    found = Actor(service, people["osnp"]).send("directory.search", commune_insee="17300")
    doc = next(d for d in found["search"]["doctors"] if d["rpps"] == "10101010101")
    shown = [x["start"] for day in doc["days"] for x in day["slots"]]
    assert shown and all(datetime.fromisoformat(x) < NOW + timedelta(hours=72) for x in shown)
    assert datetime(2026, 11, 24, 16, 45, tzinfo=UTC).isoformat() in shown


def _cpts(sessions: sessionmaker[Session]) -> int:
    _hérault(sessions)
    with sessions.begin() as s:
        s.add(Structure(kind="CPTS", name="CPTS La Rochelle", commune_insee="17300"))
        s.flush()
        sid = s.scalar(select(Structure.id).where(Structure.name == "CPTS La Rochelle"))
        osnp2 = s.scalar(select(User.id).where(User.username == "osnp2"))
        s.add(StructureMember(user_id=osnp2, structure_id=sid))
        assert sid is not None
        return sid


def test_fhir_cpts_slots_keep_their_cpts_or_are_rejected(
    sessions: sessionmaker[Session],
) -> None:
    sid = _cpts(sessions)
    report = import_slots(sessions, DATA / "bundle_cpts.json", now=NOW)
    assert report.committed, report.aborted
    assert dict(report.rejected) == {
        "Slot/c2": "créneau réservé à une CPTS dont la CPTS est introuvable : « CPTS Axe "
        "Majeur » (1950047225) inconnue de l'annuaire",
        "Slot/c3": "créneau réservé à une CPTS dont la CPTS est introuvable : "
        "HealthcareService/hs-missing absent du Bundle",
        "Slot/c4": "créneau réservé à une CPTS dont la CPTS est introuvable : aucun "
        "HealthcareService (serviceType) ne la désigne",
    }
    assert report.warnings == [
        ("Slot/c5", "CPTS non rattachée : « CPTS Axe Majeur » (1950047225) inconnue de "
         "l'annuaire"),
    ]  # fmt: skip
    with sessions() as s:
        got = {
            x.source_ref: (x.visibility, x.structure_id)
            for x in s.scalars(select(Slot).where(Slot.source == "fhir"))
        }
    assert got == {"c1": ("CPTS", sid), "c5": ("PUBLIC", None), "c6": ("SNP", sid)}


def test_cpts_slots_are_shown_to_that_cpts_desks_only(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    _cpts(sessions)
    import_slots(sessions, DATA / "bundle_cpts.json", now=NOW)
    service = FlowService(sessions, clock=lambda: NOW)
    install(service)
    with sessions() as s:
        c1 = s.scalar(select(Slot.id).where(Slot.source_ref == "c1"))

    def visible(user: str) -> set[int]:
        found = Actor(service, people[user]).send("directory.search", commune_insee="17300")
        return {
            x["id"] for d in found["search"]["doctors"] for day in d["days"] for x in day["slots"]
        }

    assert c1 in visible("osnp2")  # a desk of the CPTS La Rochelle
    assert c1 in visible("sup")
    assert c1 not in visible("osnp") and visible("osnp")  # others see the rest only
    refused = Actor(service, people["osnp"]).refused("slot.book", slot_id=c1)
    assert (refused.code, refused.message) == ("not_found", f"créneau {c1} introuvable")
    assert Actor(service, people["osnp2"]).send("slot.book", slot_id=c1)["slot"]["id"] == c1


def test_cpts_members_from_a_file(sessions: sessionmaker[Session], db_url: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from app.cli import main

    _hérault(sessions)
    with sessions.begin() as s:
        s.add(Structure(kind="CPTS", name="CPTS La Rochelle", commune_insee="17300"))
    assert main(["import", "membres", str(DATA / "membres_cpts.csv"), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "2 ligne(s) acceptée(s) (1 créée(s), 0 mise(s) à jour), 2 rejetée(s)" in out
    assert "rejetée  ligne 4 : utilisateur « inconnu » inconnu" in out
    assert "rejetée  ligne 5 : structure « CPTS Fantôme » inconnue de l'annuaire" in out
    with sessions() as s:
        members = {
            (u, sid)
            for u, sid in s.execute(
                select(User.username, StructureMember.structure_id).join(
                    StructureMember, StructureMember.user_id == User.id)
            )
        }  # fmt: skip
        sid = s.scalar(select(Structure.id))
    assert members == {("osnp2", sid)}
