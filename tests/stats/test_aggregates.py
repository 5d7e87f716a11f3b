"""The calls and dossiers the database counts for the report give the figures the facts
give, computed one fact at a time (``call_stats``, ``dossier_stats`` over ``load_facts``)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db.models import Call, Event
from app.hub.events import EventName
from app.stats.calendar import local_day, local_hour, week_of
from app.stats.facts import CallFact, load_facts
from app.stats.metrics import CallStats, call_stats, dossier_stats, group
from app.stats.projection import project
from app.stats.report import NO_DOSSIER, build_report
from app.stats.territory import load_territory
from tests.stats.room import Room
from tests.stats.test_projection import JUNE, play


@pytest.mark.parametrize("finer", [False, True])
def test_the_counted_figures_equal_those_of_the_facts(room: Room, finer: bool) -> None:
    """``finer``: one wait is not a whole number of milliseconds (the hub rounds them;
    such a wait makes the count read every wait as text)."""
    room.clock.at(datetime(2023, 5, 31, 21, 30, tzinfo=UTC))  # 23:30 in Paris, 31 May
    play(room, random.Random(5), 70)
    # An answered call of a log without its wait (an older hub's), and one whose wait is
    # finer: written to the log as such and projected, as the hub projects its events.
    for wait in (None, 12.3456) if finer else (None,):
        ref = room.ring("15")
        room.clock.tick(20)
        with room.sessions.begin() as s:
            call_id = s.scalar(select(Call.id).where(Call.call_ref == ref))
            data = {} if wait is None else {"wait_seconds": wait}
            answered = Event(
                at=room.clock.now, type=EventName.CALL_ANSWERED, call_id=call_id, data=data
            )
            s.add(answered)
            s.flush()
            project(s, [answered])
    room.clock.at(datetime(2023, 6, 30, 21, 58, tzinfo=UTC))  # the month's last minutes
    room.ring("116117")  # still ringing when the report is built
    room.dossier(insee="17369", wait=150)  # offered in June, its dossier opened in July

    with room.sessions() as s:
        report = build_report(s, JUNE)
        facts = load_facts(s, JUNE)
        t = load_territory(s)
    calls = [c for c in facts.calls.values() if JUNE.contains(c.offered_at)]
    dossiers = [d for d in facts.dossiers.values() if JUNE.contains(d.opened_at)]
    # The month reached every kind of call and dossier the counting treats apart.
    assert any(c.abandoned for c in calls) and any(c.ended_at is None for c in calls)
    assert any(c.answered_at and c.wait_seconds is None for c in calls)
    assert any(d.moves for d in dossiers) and len({d.wanted_key for d in dossiers}) > 2
    assert sum(
        facts.dossier_of_call(c.call_id) is None and c.answered_at is not None for c in calls
    )

    def stats(key: Callable[[CallFact], Hashable]) -> dict[Hashable, CallStats]:
        return {k: call_stats(v) for k, v in group(calls, key).items()}

    def sector(c: CallFact) -> str:
        d = facts.dossier_of_call(c.call_id)
        return NO_DOSSIER if d is None else t.sector_name(t.sector_of(d.commune))

    assert report.calls == call_stats(calls)
    assert report.calls_by_line == stats(lambda c: c.line)
    assert list(report.calls_by_hour.items()) == list(
        stats(lambda c: local_hour(c.offered_at)).items()
    )
    by_day = stats(lambda c: local_day(c.offered_at))
    assert report.calls_by_day == {d: by_day.get(d, call_stats([])) for d in JUNE.days()}
    assert report.calls_by_week == stats(lambda c: week_of(local_day(c.offered_at)))
    assert report.calls_by_sector == stats(sector) and len(report.calls_by_sector) > 2
    assert report.dossiers == dossier_stats(dossiers)
    per_sector = {
        t.sector_name(k): dossier_stats(v)
        for k, v in group(dossiers, lambda d: t.sector_of(d.commune)).items()
    }
    assert per_sector.keys() <= report.dossiers_by_sector.keys() and len(per_sector) > 2
    assert report.dossiers_by_sector == {
        name: per_sector.get(name, dossier_stats([])) for name in report.dossiers_by_sector
    }
    wanted = Counter(d.wanted_key for d in dossiers if d.wanted_key)
    assert {k: v.decisions for k, v in report.by_profession.items() if v.decisions} == wanted
    assert report.calls.offered == len(calls) > report.calls.answered + report.calls.abandoned
    assert timedelta(0) < JUNE.end - max(c.offered_at for c in calls) < timedelta(minutes=5)
