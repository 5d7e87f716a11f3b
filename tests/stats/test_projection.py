"""The fact tables stay equal to a fold of the event log: projected by the hub unit by
unit, rebuilt from the whole log, and backfilled by migration 0004."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import alembic_config, upgrade
from app.db.models import Event, User
from app.domain.rules import FlowError
from app.hub.auth import principal_of
from app.hub.events import EventName
from app.hub.service import WrittenEvent
from app.stats import dossier_days
from app.stats.calendar import Period
from app.stats.facts import FACT_TABLES, FactSet
from app.stats.models import StatDossierDay
from app.stats.projection import fold_log, project, rebuild
from app.stats.report import NO_DOSSIER, build_report
from tests.conftest import ACCOUNTS
from tests.stats.room import Room

JUNE = Period.month(2023, 6)
OUTCOMES = ("RDV_MT", "RDV_CONFRERE", "RDV_CRENEAU", "RDV_HORS_DISPO", "SANS_SOLUTION")


def stored(sessions: sessionmaker[Session]) -> FactSet:
    """Every fact row, as the tables hold it."""
    out = FactSet()
    with sessions() as s:
        for name, (cls, table) in FACT_TABLES.items():
            cols = [table.c[f.name] for f in fields(cls)]
            getattr(out, name).update((row[0], cls(*row)) for row in s.execute(select(*cols)))
    return out


def folded(sessions: sessionmaker[Session]) -> FactSet:
    """The whole log folded again, in memory."""
    with sessions() as s:
        return fold_log(s.connection())


def assert_same(a: FactSet, b: FactSet) -> None:
    for name in FACT_TABLES:
        left, right = getattr(a, name), getattr(b, name)
        assert left.keys() == right.keys(), name
        for key in left:
            assert left[key] == right[key], (name, key)


def day_counts(sessions: sessionmaker[Session]) -> dict[tuple[Any, ...], list[int]]:
    """The dossiers' day counts as the projector kept them (cells left at zero dropped)."""
    t = StatDossierDay.__table__
    with sessions() as s:
        rows = s.execute(select(t)).all()
    return {
        tuple(r[: len(dossier_days.KEYS)]): list(r[len(dossier_days.KEYS) :])
        for r in rows
        if any(r[len(dossier_days.KEYS) :])
    }


def play(room: Room, rng: random.Random, steps: int, professions: bool = True) -> None:
    """A busy room: answered and abandoned calls (some forked), SNP searches closed
    every way, bookings made and released, searches cancelled by a move or reopened;
    ``professions``: some consultations ask for a paediatrician or a nurse (the log of
    a hub before migration 0019 has none)."""
    doctor = room.doctor("17300")
    free = room.slots(room.doctor("17369"), datetime(2023, 6, 9, 15, tzinfo=UTC), 40)
    closed: list[int] = []
    for _ in range(steps):
        room.clock.tick(rng.uniform(30, 3000))
        x = rng.random()
        if x < 0.2:
            ref = room.ring(rng.choice(("15", "116117")), desks=("n1", "n1b")[: rng.randint(1, 2)])
            room.clock.tick(rng.uniform(2, 90))
            room.hang_up(ref, "n1", "caller_gave_up")
        elif x < 0.4:
            d = room.dossier(
                priority=rng.choice(("P0", "P1", "P2", "P3")),
                insee=rng.choice(("17300", "17369", "17028", "75056")),
                line=rng.choice(("15", "116117")),
                wait=rng.uniform(1, 120),
            )
            if rng.random() < 0.3:
                room.send("sup", "dossier.update", dossier_id=d, fields={"commune_insee": "17306"})
        elif x < 0.85:
            wanted: dict[str, str] = {}
            if professions:
                wanted = rng.choice(({}, {}, {"specialty": "SM40"}, {"profession": "60"}))
            d, task = room.snp_task(insee=rng.choice(("17300", "17369", "17028")), **wanted)
            y = rng.random()
            if y < 0.15:
                room.send("mrl", "dossier.move_track", dossier_id=d, track="AMU", reason="grave")
                continue
            outcome = rng.choice(OUTCOMES)
            if outcome == "RDV_CRENEAU" and free:
                if rng.random() < 0.3:  # a place booked, given back, then another one
                    b = room.send("osnp", "slot.book", slot_id=free.pop(), dossier_id=d)
                    room.send("osnp", "slot.release", booking_id=b["booking"]["id"])
                room.close_task(task, outcome, dossier=d, slot=free.pop())
            elif outcome == "RDV_HORS_DISPO":
                room.close_task(task, outcome, dossier=d, beyond=doctor)
            elif outcome != "RDV_CRENEAU":
                room.close_task(task, outcome, dossier=d)
            closed.append(task)
        elif closed:
            task = closed.pop(rng.randrange(len(closed)))
            try:
                room.send("osnp", "task.reopen", task_id=task, reason="patient non venu")
            except FlowError:
                continue  # past its 48 h
            room.clock.tick(600)
            room.send(
                "osnp",
                "task.close",
                task_id=task,
                outcome="RDV_MT",
                appointment={
                    "with": "Dr Martin",
                    "at": (room.clock.now + timedelta(hours=2)).isoformat(),
                },
            )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_projected_facts_equal_a_fold_of_the_log_at_every_checkpoint(
    room: Room, seed: int
) -> None:
    rng = random.Random(seed)
    for _ in range(4):
        play(room, rng, 25)
        assert_same(stored(room.sessions), folded(room.sessions))
        # The day counts moved with every dossier that changed: those of the fold.
        assert day_counts(room.sessions) == dossier_days.count(
            folded(room.sessions).dossiers.values()
        )
    facts = stored(room.sessions)
    # The flow did reach every kind of fact the fold knows, or the check proves little.
    assert len(facts.calls) > len(facts.dossiers) > 20
    assert any(t.cancelled for t in facts.tasks.values())
    assert any(t.reopens for t in facts.tasks.values())
    assert any(b.released_at for b in facts.bookings.values())
    assert any(c.abandoned for c in facts.calls.values())
    assert any(d.moves for d in facts.dossiers.values())
    assert {d.wanted_key for d in facts.dossiers.values()} >= {"10/SM54", "10/SM40", "60"}
    counted = day_counts(room.sessions)
    assert any(key[2] == "AMU" and n[1] for key, n in counted.items())  # a move was counted
    with room.sessions.begin() as s:  # a rebuild changes nothing
        rebuild(s.connection())
    assert_same(stored(room.sessions), facts)
    assert day_counts(room.sessions) == counted


def test_a_unit_that_fails_leaves_no_fact_behind(room: Room) -> None:
    room.dossier()

    def broken(session: Session, events: list[WrittenEvent]) -> None:
        raise RuntimeError("projector down")

    room.service.projectors.append(broken)
    with pytest.raises(RuntimeError):
        room.dossier()
    room.service.projectors.remove(broken)
    facts = stored(room.sessions)
    assert len(facts.calls) == len(facts.dossiers) == 1
    assert_same(facts, folded(room.sessions))


def test_the_migration_backfills_the_facts_of_an_existing_log(
    tmp_path: Path, password_hash: str
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    # Today's code writes the log (it needs today's schema), without the projector, as
    # the hub did before the statistics facts; then the database goes back to how it
    # was before them (0003) and forward again: migration 0004 must backfill the facts.
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        for username, role in ACCOUNTS:
            s.add(
                User(
                    username=username,
                    display_name=username,
                    role=str(role),
                    password_hash=password_hash,
                )
            )
    with sessions() as s:
        people = {u.username: principal_of(u) for u in s.scalars(select(User))}
    room = Room(sessions, people)
    room.service.projectors.remove(project)  # the hub of that time had no projector
    room.load_communes()
    play(room, random.Random(5), 40, professions=False)
    with sessions() as s:
        events = s.scalar(select(func.count()).select_from(Event))
    assert events and events > 100

    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    upgrade(engine)
    facts = stored(sessions)
    assert_same(facts, folded(sessions))
    # Migration 0023 counted the backfilled dossiers per day as the projector does.
    assert day_counts(sessions) == dossier_days.count(facts.dossiers.values())
    with sessions() as s:
        report = build_report(s, JUNE)
        offered = s.scalar(select(func.count()).where(Event.type == EventName.CALL_OFFERED))
        tasks = s.scalar(select(func.count()).where(Event.type == EventName.TASK_CREATED))
    assert report.calls.offered == offered == len(facts.calls)
    assert tasks and report.tasks.created == tasks
    engine.dispose()


def test_answering_figures_per_territory_of_the_dossier(room: Room) -> None:
    room.dossier(insee="17300", wait=10)  # La Rochelle
    room.dossier(insee="17300", wait=70)
    room.dossier(insee="17369", wait=20)  # Île de Ré
    room.dossier(insee="75056", wait=5)  # outside the territory served
    ref = room.ring("15", desks=("n1", "n1b"))
    room.clock.tick(40)
    room.hang_up(ref, "n1", "caller_gave_up")
    with room.sessions() as s:
        report = build_report(s, JUNE)
    by = {
        k: (v.offered, v.answered, v.within_60s, v.abandoned)
        for k, v in report.calls_by_sector.items()
    }
    assert by == {
        "La Rochelle": (2, 2, 1, 0),
        "Île de Ré": (1, 1, 1, 0),
        "Hors territoire": (1, 1, 1, 0),
        NO_DOSSIER: (1, 0, 0, 1),
    }
    calls = next(t for t in report.tables() if t.title == "Décroché")
    assert ["Territoire La Rochelle", 2, 2, 0] == calls.rows[
        [r[0] for r in calls.rows].index("Territoire La Rochelle")
    ][:4]


def test_a_moved_commune_moves_the_call_and_dossier_to_the_other_territory(room: Room) -> None:
    d = room.dossier(insee="17300")
    room.send("sup", "dossier.update", dossier_id=d, fields={"commune_insee": "17369"})
    with room.sessions() as s:
        report = build_report(s, JUNE)
    assert list(report.calls_by_sector) == ["Île de Ré"]
    assert report.dossiers_by_sector["Île de Ré"].total == 1
    assert report.dossiers_by_sector["La Rochelle"].total == 0


def _accepted(desks: Any, ref: str, kind: str) -> dict[str, Any]:
    """A search ended by the call-back workflow: the target accepted the patient."""
    from tests.callback.conftest import NOW, osnp_task, plan, target

    task_id = osnp_task(desks, "Dr Claire Vasseur", ref=ref)
    p = plan(desks, task_id)
    extra = (
        {} if kind == "CRENEAU" else {"appointment": {"at": (NOW + timedelta(hours=6)).isoformat()}}
    )
    reply: dict[str, Any] = desks.osnp.send(
        "callback.attempt", target_id=target(p, kind)["id"], result="ACCEPTED", **extra
    )
    return reply


def test_no_shows_are_counted_from_the_call_back_workflow(
    sessions: sessionmaker[Session], people: dict[str, Any]
) -> None:
    from tests.callback.conftest import NOW, counted_room

    _service, desks, clock = counted_room(sessions, people)
    # The territory publishes two slots: two on them, two hors disponibilité.
    replies = [
        _accepted(desks, f"cb-{n}", kind)
        for n, kind in enumerate(("CRENEAU", "HORS_DISPO", "CRENEAU", "HORS_DISPO"))
    ]
    clock.advance(hours=8)  # the appointments have taken place (or not)
    for reply, status in zip(
        replies, ("NO_SHOW", "HONOURED", "CANCELLED", "CONFIRMED"), strict=True
    ):
        desks.osnp.send(
            "callback.appointment.status", appointment_id=reply["appointment"]["id"], status=status
        )
    november = Period.month(NOW.year, NOW.month)
    with sessions() as s:
        report = build_report(s, november)
    a = report.appointments
    assert (a.no_show, a.honoured, a.cancelled, a.confirmed) == (1, 1, 1, 1)
    assert a.no_show_rate == 0.5
    assert sum(report.no_shows_by_sector.values()) == 1
    rows = {
        r[0]: r[1]
        for r in next(t for t in report.tables() if t.title == "Recherche de RDV (OSNP)").rows
    }
    assert rows["Patients non venus"] == 1
    assert_same(stored(sessions), folded(sessions))
    # The cancelled appointment gave its place back: its booking is released.
    facts = stored(sessions)
    assert sum(b.released_at is not None for b in facts.bookings.values()) == 1
