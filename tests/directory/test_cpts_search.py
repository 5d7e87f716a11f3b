"""A search for a patient's commune shows first the CPTS whose ROR zone covers it, with
its SNP phone, then its participating doctors; the agenda connected to the SAS is told
per practice place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.booking import book_slot
from app.directory.engine import DirectoryIndex
from app.directory.imports.ror import import_ror
from app.directory.models import Effecteur, Practice, Slot, Unavailability, bump_revision
from app.directory.presenter import card, cpts_card
from app.directory.protocol import SearchFound
from app.directory.query import SearchQuery
from tests.directory.conftest import NOW

DATA = Path(__file__).with_name("data")


def _search(index: DirectoryIndex, sessions: sessionmaker[Session], insee: str) -> SearchFound:
    with sessions() as s:
        index.sync(s, NOW)
    return index.search(SearchQuery(commune_insee=insee), NOW).to_dict()


def test_the_commune_s_cpts_comes_first_with_its_participants(
    demo_sessions: sessionmaker[Session],
) -> None:
    index = DirectoryIndex()
    found = _search(index, demo_sessions, "17028")  # Aytré, in the demo's La Rochelle sector
    assert [c["name"] for c in found["cpts"]] == ["CPTS La Rochelle"]
    lr = found["cpts"][0]
    assert lr["snp_phone"] == "0536491674"
    with demo_sessions() as s:
        members = {
            e.rpps
            for e in s.scalars(select(Effecteur)).unique()
            if e.structure is not None
            and e.structure.name == "CPTS La Rochelle"
            and e.sas_participant
            and e.active
        }
        away = set(
            s.scalars(
                select(Effecteur.rpps)
                .join(Unavailability, Unavailability.effecteur_id == Effecteur.id)
                .where(Unavailability.start <= NOW, Unavailability.end > NOW)
            )
        )
    assert away & members and members - away  # the demo has a CPTS doctor on leave
    members -= away  # absent now: not offered, as in the main list
    assert members and {d["rpps"] for d in lr["participants"]} == members
    keys = [(d["tier"], d["earliest"] or "~") for d in lr["participants"]]
    assert keys == sorted(keys)  # ranked like the main list: with slots, earliest first
    assert _search(index, demo_sessions, "17300")["cpts"][0]["name"] == "CPTS La Rochelle"
    assert _search(index, demo_sessions, "95018")["cpts"] == []  # no CPTS zone there

    # The ROR moves the zone and the phone: the delta sync follows.
    assert import_ror(demo_sessions, DATA / "ror_cpts_zone_changed.json").committed
    assert _search(index, demo_sessions, "17028")["cpts"] == []
    moved = _search(index, demo_sessions, "17200")["cpts"]
    assert [(c["name"], c["snp_phone"], c["national_id"]) for c in moved] == [
        ("CPTS La Rochelle", "0546999915", "170000001")
    ]
    participant = moved[0]["participants"][0]
    assert participant["structure_phone"] == "0546999915"  # the doctors' rows follow too
    view = cpts_card(moved[0])
    assert view.title == "CPTS La Rochelle"
    assert view.phones == [("Téléphone SNP de la CPTS", "0546999915")]
    assert view.subtitle == "CPTS couvrant la commune du patient · FINESS/ROR 170000001"


def test_agenda_is_told_per_practice_place(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions.begin() as s:
        e = s.scalars(select(Effecteur).where(Effecteur.rpps == "10199952944")).unique().one()
        rev = bump_revision(s)
        e.rev = rev
        e.practices.append(
            Practice(
                name="Centre de soins non programmés",
                address="1 rue du Port",
                commune_insee="17028",
                commune_name="Aytré",
                lat=46.13,
                lon=-1.11,
                agenda_software="Keldoc",
                agenda_level="end_to_end",
            )
        )
    found = _search(DirectoryIndex(), demo_sessions, "17300")
    doc = next(d for d in found["doctors"] if d["rpps"] == "10199952944")
    assert [(p["name"], p["agenda_label"]) for p in doc["practices"]] == [
        ("Cabinet médical du Vieux-Port", "interfacé (visibilité) · Doctolib"),
        ("Centre de soins non programmés", "interfacé de bout en bout · Keldoc"),
    ]
    assert card(doc, NOW).agendas == [
        "Cabinet médical du Vieux-Port — agenda interfacé (visibilité) · Doctolib",
        "Centre de soins non programmés — agenda interfacé de bout en bout · Keldoc",
    ]


def test_booking_at_a_place_follows_that_place_s_agenda(
    demo_sessions: sessionmaker[Session],
) -> None:
    """The doctor's own agenda is interfaced (visibility) but his second place books end
    to end: a slot there needs no confirming call, one at the first place does."""
    with demo_sessions.begin() as s:
        e = s.scalars(select(Effecteur).where(Effecteur.rpps == "10199952944")).unique().one()
        rev = bump_revision(s)
        place = Practice(commune_insee="17028", agenda_software="Keldoc", agenda_level="end_to_end")
        e.practices.append(place)
        s.flush()
        first = e.practices[0].id
        slots = [
            Slot(effecteur_id=e.id, practice_id=pid, start=NOW + timedelta(hours=h),
                 end=NOW + timedelta(hours=h, minutes=15), rev=rev)
            for pid, h in ((place.id, 5), (first, 6))
        ]  # fmt: skip
        s.add_all(slots)
        s.flush()
        ids = [x.id for x in slots]
    with demo_sessions.begin() as s:
        calls = [book_slot(s, i, now=NOW, user_id=None).booking.requires_call for i in ids]
    assert calls == [False, True]
