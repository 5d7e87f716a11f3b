"""The facts folded a moment after their events commit (app.stats.projection.catch_up):
queued by the events' trigger, folded in batches by the running hub, and before any
report; never twice, never lost, also with two hubs on one PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

import app.stats.hub
from app.db.models import Event
from app.hub.auth import Principal
from app.hub.events import EventName
from app.hub.service import HubService, Outgoing
from app.stats.hub import StatsExtension
from app.stats.models import StatPending
from app.stats.projection import catch_up, pending, project, rebuild
from app.stats.report import build_report
from tests.stats.room import Room
from tests.stats.test_projection import JUNE, assert_same, folded, play, stored
from tests.waits import until

T = TypeVar("T")


def deferred(room: Room) -> StatsExtension:
    """The room's statistics as a running hub has them: queued, folded by catch-ups."""
    ext = StatsExtension()
    room.service.projectors[room.service.projectors.index(project)] = ext.note
    return ext


def queued(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return pending(s.connection())


def test_events_wait_in_the_queue_until_a_catch_up_folds_them(room: Room) -> None:
    ext = deferred(room)
    play(room, random.Random(3), 60)
    assert ext.due
    facts = stored(room.sessions)
    assert queued(room.sessions) > 100
    assert len(facts.dossiers) < len(folded(room.sessions).dossiers)
    folded_now = ext.catch_up_now(room.service)
    assert folded_now is not None and folded_now > 100
    assert queued(room.sessions) == 0
    assert_same(stored(room.sessions), folded(room.sessions))
    assert ext.catch_up_now(room.service) == 0  # nothing folded twice


def test_a_report_folds_what_is_queued_before_it_counts(room: Room) -> None:
    deferred(room)
    play(room, random.Random(4), 40)
    assert queued(room.sessions) > 0
    with room.sessions() as s:  # a read, as `sasdesk report` does
        report = build_report(s, JUNE, now=room.clock.now)
    assert queued(room.sessions) == 0  # its catch-up committed: not done again
    with room.sessions.begin() as s:
        assert catch_up(s.connection()) == 0
    with room.sessions.begin() as s:
        rebuild(s.connection())  # the whole log folded again: the same month
    with room.sessions() as s:
        assert build_report(s, JUNE, now=room.clock.now) == report
    assert_same(stored(room.sessions), folded(room.sessions))


def test_catch_ups_every_few_intents_fold_as_one_fold_of_the_log(room: Room) -> None:
    ext = deferred(room)
    send = room.send
    sent = [0]

    def send_and_sometimes_fold(who: str, type_: str, **payload: Any) -> dict[str, Any]:
        reply = send(who, type_, **payload)
        sent[0] += 1
        if sent[0] % 7 == 0:
            ext.catch_up_now(room.service)
        return reply

    room.send = send_and_sometimes_fold  # type: ignore[method-assign]
    play(room, random.Random(9), 80)
    ext.catch_up_now(room.service)
    assert sent[0] > 100
    assert queued(room.sessions) == 0
    assert_same(stored(room.sessions), folded(room.sessions))


def test_an_event_written_outside_any_unit_is_queued_and_folded(room: Room) -> None:
    ext = deferred(room)
    d = room.dossier()
    with room.sessions.begin() as s:
        s.execute(
            insert(Event).values(
                at=room.clock.now,
                type=EventName.DOSSIER_UPDATED,
                dossier_id=d,
                data={"fields": {"commune_insee": "17369"}},
            )
        )
    ext.catch_up_now(room.service)
    assert stored(room.sessions).dossiers[d].commune == "17369"
    assert queued(room.sessions) == 0


def test_an_event_purged_before_it_was_folded_leaves_the_queue(room: Room) -> None:
    ext = deferred(room)
    room.dossier()
    with room.sessions.begin() as s:
        last = s.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1))
        s.execute(insert(StatPending).values(seq=10_000_000))  # its event gone
    assert last is not None
    assert ext.catch_up_now(room.service) is not None
    assert queued(room.sessions) == 0


def test_a_rebuild_takes_what_it_folded_off_the_queue(room: Room) -> None:
    deferred(room)
    play(room, random.Random(6), 30)
    assert queued(room.sessions) > 0
    with room.sessions.begin() as s:
        rebuild(s.connection())
    # Left queued: only events that count no fact (the rebuild reads those that do).
    with room.sessions() as s:
        left = s.scalars(
            select(Event.type).join(StatPending.__table__, StatPending.seq == Event.seq)
        ).all()
    from app.stats.fold import FACT_EVENT_TYPES

    assert not set(left) & set(FACT_EVENT_TYPES)
    with room.sessions.begin() as s:
        catch_up(s.connection())
    assert_same(stored(room.sessions), folded(room.sessions))


class FakeHub:
    """What the extension's task sees of a running hub: the writer is one thread."""

    def __init__(self, service: HubService):
        self.service = service
        self.lock = threading.Lock()
        self.writes = 0

    async def run_in_writer(self, fn: Callable[..., T], *args: object) -> T:
        def run() -> T:
            with self.lock:
                self.writes += 1
                return fn(*args)

        return await asyncio.to_thread(run)

    def broadcast(self, events: list[Outgoing]) -> None:
        pass


def test_the_running_hub_folds_after_enough_events_and_on_its_stop(room: Room) -> None:
    ext = deferred(room)
    ext.tick, ext.events, ext.within = 0.05, 3, 3600.0
    hub: Any = FakeHub(room.service)

    async def scenario() -> tuple[int, int, int]:
        await ext.start(hub)
        ext.since = None  # nothing was left queued by a previous run
        room.ring("15")  # one event that counts: not enough
        await asyncio.sleep(0.3)
        waited = queued(room.sessions)
        idle = hub.writes
        room.dossier()  # a call, its answer, a dossier: enough
        await until(lambda: queued(room.sessions) == 0, "folded by the task, without a read")
        folds = hub.writes - idle
        room.ring("15")
        await ext.stop(hub)  # a clean stop leaves nothing queued
        return waited, idle, folds

    waited, idle_writes, folds = asyncio.run(scenario())
    assert waited > 0 and idle_writes == 0  # below the count, nothing was run
    assert folds == 1
    assert queued(room.sessions) == 0
    assert_same(stored(room.sessions), folded(room.sessions))


def test_a_quiet_rooms_events_are_folded_within_the_delay(room: Room) -> None:
    ext = deferred(room)
    ext.tick, ext.events, ext.within = 0.05, 1000, 0.3
    hub: Any = FakeHub(room.service)

    async def scenario() -> float:
        await ext.start(hub)
        room.dossier()
        started = asyncio.get_running_loop().time()
        await until(lambda: queued(room.sessions) == 0, "folded after the delay")
        took = asyncio.get_running_loop().time() - started
        await ext.stop(hub)
        return took

    assert asyncio.run(scenario()) >= 0.2
    assert_same(stored(room.sessions), folded(room.sessions))


def test_a_catch_up_that_fails_leaves_the_count_for_the_next(
    room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    ext = deferred(room)
    ext.events = 2
    room.dossier()
    noted, since = ext.noted, ext.since
    assert ext.due and noted >= 2

    def down(*_args: object, **_kw: object) -> int:
        raise RuntimeError("database gone")

    monkeypatch.setattr(app.stats.hub, "catch_up", down)
    with pytest.raises(RuntimeError):
        ext.catch_up_now(room.service)
    assert (ext.noted, ext.since) == (noted, since) and ext.due
    monkeypatch.undo()
    assert ext.catch_up_now(room.service)
    assert (ext.noted, ext.since) == (0, None) and not ext.due
    assert_same(stored(room.sessions), folded(room.sessions))


@pytest.mark.peers
def test_two_hubs_on_postgresql_fold_each_event_once(
    pg_sessions: sessionmaker[Session], pg_people: dict[str, Principal]
) -> None:
    """Catch-ups racing intents and each other: one holds the lock, the other is told
    to try again; an event committed meanwhile stays queued for the next one."""
    room = Room(pg_sessions, pg_people)
    room.load_communes()
    ext = deferred(room)
    stop = threading.Event()
    errors: list[BaseException] = []
    busy = [0]

    def other_hub() -> None:
        try:
            while not stop.is_set():
                if ext.catch_up_now(room.service) is None:
                    busy[0] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    racers = [threading.Thread(target=other_hub) for _ in range(2)]
    for t in racers:
        t.start()
    try:
        play(room, random.Random(11), 60)
    finally:
        stop.set()
        for t in racers:
            t.join(30)
    assert not errors
    ext.catch_up_now(room.service, wait=True)
    assert queued(pg_sessions) == 0
    assert_same(stored(pg_sessions), folded(pg_sessions))
    assert busy[0] > 0
