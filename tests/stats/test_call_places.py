"""Each call's territory (``stat_call_places``) and the calls packed per hour
(``stat_call_hours``): kept by the projector unit by unit as a hand count of the
facts says, and a call that several dossiers name placed in the report as the facts
place it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.db.models import Dossier, Event
from app.hub.events import EventName
from app.stats import call_hours, call_places
from app.stats.facts import CallFact, DossierFact, load_facts
from app.stats.metrics import call_stats, group
from app.stats.models import StatCall, StatCallHour, StatCallPlace
from app.stats.projection import project
from app.stats.report import NO_DOSSIER, build_report
from app.stats.territory import load_territory
from tests.stats.room import Room
from tests.stats.test_projection import JUNE

T0 = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)
CALLS: Any = StatCall.__table__
PLACES: Any = StatCallPlace.__table__
HOURS: Any = StatCallHour.__table__
COMMUNES = ("17300", "17369", "")

#: One step of a log: a dossier opened (naming one of a few calls, or none) or a
#: dossier's commune changed; True ends the unit of work.
Step = tuple[str, int, int] | bool
steps = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.integers(0, 5), st.integers(0, 2)),
        st.tuples(st.just("move"), st.integers(0, 40), st.integers(0, 2)),
        st.just(True),
    ),
    max_size=40,
)


def hand_count(dossiers: list[DossierFact]) -> dict[int, tuple[Any, ...]]:
    """Per call: the dossier of highest id naming it, its opening and commune, and how
    many dossiers name it."""
    out: dict[int, tuple[Any, ...]] = {}
    for call in {d.call_id for d in dossiers if d.call_id is not None}:
        naming = [d for d in dossiers if d.call_id == call]
        last = max(naming, key=lambda d: d.dossier_id)
        out[call] = (call, last.dossier_id, last.opened_at, last.commune, len(naming))
    return out


def stored(s: Session) -> dict[int, tuple[Any, ...]]:
    cols = [StatCallPlace.__table__.c[n] for n in call_places.COLUMNS]
    return {row[0]: tuple(row) for row in s.execute(select(*cols))}


@settings(max_examples=60, deadline=None)
@given(steps)
def test_the_places_kept_unit_by_unit_are_a_hand_count_of_the_dossiers(
    log: list[Step],
) -> None:
    engine = make_engine("sqlite://")
    PLACES.create(engine)
    dossiers: list[DossierFact] = []
    new: dict[int, DossierFact] = {}
    changed: dict[int, DossierFact] = {}
    with Session(engine) as s:
        for step in [*log, True]:
            if step is True:
                call_places.apply(s, new.values(), changed.values())
                new, changed = {}, {}
                continue
            assert not isinstance(step, bool)
            kind, a, b = step
            if kind == "open":
                call = None if a == 5 else 100 + a
                d = DossierFact(len(dossiers) + 1, T0 + timedelta(minutes=len(dossiers)))
                d.call_id, d.commune = call, COMMUNES[b]
                dossiers.append(d)
                new[d.dossier_id] = d
            elif dossiers:
                d = dossiers[a % len(dossiers)]
                d.commune = COMMUNES[b]
                if d.dossier_id not in new:
                    changed[d.dossier_id] = d
        assert stored(s) == hand_count(dossiers)
        assert {k: p.values() for k, p in call_places.count(dossiers).items()} == hand_count(
            dossiers
        )
    engine.dispose()


def test_a_call_two_dossiers_name_is_placed_as_the_facts_place_it(room: Room) -> None:
    first = room.dossier(insee="17300", wait=10)  # La Rochelle
    room.dossier(insee="17369", wait=20)
    room.dossier(insee="17028", wait=30)
    # A log from elsewhere (an import, an old hub) names the first call again, from a
    # dossier of July in another territory: the row keeps it (the later), yet June's
    # report places the call by the dossier June saw.
    with room.sessions.begin() as s:
        call_id = s.scalar(select(Dossier.call_id).where(Dossier.id == first))
        assert call_id is not None
        opened_by = s.scalar(select(Dossier.opened_by_id).where(Dossier.id == first))
        at = datetime(2023, 7, 1, 8, 0, tzinfo=UTC)
        other = Dossier(
            number="import-1", line="15", status="OPEN", opened_by_id=opened_by, answered_at=at
        )
        s.add(other)
        s.flush()
        events = [
            Event(
                at=at,
                type=EventName.DOSSIER_OPENED,
                dossier_id=other.id,
                data={"line": "15", "call_id": call_id},
            ),
            Event(
                at=at,
                type=EventName.DOSSIER_UPDATED,
                dossier_id=other.id,
                data={"fields": {"commune_insee": "17369"}},
            ),
        ]
        s.add_all(events)
        s.flush()
        project(s, events)
    with room.sessions() as s:
        places = stored(s)
        report = build_report(s, JUNE)
        facts = load_facts(s, JUNE)
        t = load_territory(s)
    assert places[call_id][1:] == (other.id, at, "17369", 2)

    def sector(c: Any) -> str:
        d = facts.dossier_of_call(c.call_id)
        return NO_DOSSIER if d is None else t.sector_name(t.sector_of(d.commune))

    expected = {k: call_stats(v) for k, v in group(list(facts.calls.values()), sector).items()}
    assert report.calls_by_sector == expected
    assert sum(v.offered for v in expected.values()) == 3 and NO_DOSSIER not in expected
    assert expected[t.sector_name(t.sector_of("17369"))].offered == 1  # not moved there


def test_a_wait_is_packed_in_whole_milliseconds_or_marked() -> None:
    def code(
        wait: float | None, answered: bool = True, ended: float | None = None
    ) -> tuple[int, float | None]:
        c = CallFact(1, T0, "15", T0 + timedelta(seconds=3) if answered else None, wait)
        if ended is not None:
            c.ended_at, c.abandoned = T0 + timedelta(seconds=ended), not answered
        return call_hours.wait_code(c)

    assert [code(12.345), code(0.0), code(150), code(0.001)] == [
        (12345, None),
        (0, None),
        (150000, None),
        (1, None),
    ]
    assert code(12.3456) == code(-0.5) == (call_hours.APART, None)  # counted from the facts
    assert code(None) == (call_hours.UNTIMED, 3.0)  # answered - offered, as call_stats
    assert code(None, answered=False) == (call_hours.NO_WAIT, None)  # ringing
    assert code(None, answered=False, ended=41.5) == (call_hours.ABANDONED, 41.5)
    c = CallFact(1, T0, "15", abandoned=True)  # abandoned, its end unknown
    assert call_hours.wait_code(c) == (call_hours.ABANDONED, -1.0)


#: One step: a call offered in one of a few hours, answered (a wait, None, or a finer
#: one), a dossier opened naming a call, a dossier's commune changed; True ends a unit.
call_steps = st.lists(
    st.one_of(
        st.tuples(st.just("offer"), st.integers(0, 3), st.sampled_from(("15", "116117", ""))),
        st.tuples(st.just("answer"), st.integers(0, 30), st.sampled_from((4.5, None, 0.1234))),
        st.tuples(st.just("abandon"), st.integers(0, 30), st.sampled_from((7.25, None))),
        st.tuples(st.just("open"), st.integers(0, 30), st.integers(0, 2)),
        st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 2)),
        st.just(True),
    ),
    max_size=50,
)


@settings(max_examples=60, deadline=None)
@given(call_steps)
def test_the_hours_packed_unit_by_unit_are_a_hand_count_of_the_calls(
    log: list[tuple[str, int, Any] | bool],
) -> None:
    engine = make_engine("sqlite://")
    for table in (PLACES, HOURS, CALLS):
        table.create(engine)
    calls: list[CallFact] = []
    dossiers: list[DossierFact] = []
    unit_calls: dict[int, CallFact] = {}
    born: dict[int, DossierFact] = {}
    moved: dict[int, DossierFact] = {}
    with Session(engine) as s:
        for step in [*log, True]:
            if step is True:  # the unit's facts are written, then what derives from them
                for c in unit_calls.values():
                    s.execute(delete(CALLS).where(StatCall.call_id == c.call_id))
                    s.add(StatCall(call_id=c.call_id, offered_at=c.offered_at, line=c.line))
                s.flush()
                placed = call_places.apply(s, born.values(), moved.values())
                call_hours.apply(s, unit_calls.values(), placed)
                unit_calls, born, moved = {}, {}, {}
                continue
            assert not isinstance(step, bool)
            kind, a, b = step
            if kind == "offer":
                c = CallFact(len(calls) + 1, T0 + timedelta(hours=a, minutes=len(calls)), b)
                calls.append(c)
                unit_calls[c.call_id] = c
            elif kind == "answer" and calls:
                c = calls[a % len(calls)]
                if c.answered_at is None and not c.abandoned:
                    c.answered_at, c.wait_seconds = c.offered_at + timedelta(seconds=1), b
                    unit_calls[c.call_id] = c
            elif kind == "abandon" and calls:
                c = calls[a % len(calls)]
                if c.answered_at is None and not c.abandoned:
                    c.abandoned = True
                    c.ended_at = None if b is None else c.offered_at + timedelta(seconds=b)
                    unit_calls[c.call_id] = c
            elif kind == "open" and calls:
                d = DossierFact(len(dossiers) + 1, T0 + timedelta(hours=a))
                d.call_id, d.commune = calls[a % len(calls)].call_id, COMMUNES[b]
                dossiers.append(d)
                born[d.dossier_id] = d
            elif kind == "move" and dossiers:
                d = dossiers[a % len(dossiers)]
                d.commune = COMMUNES[b]
                if d.dossier_id not in born:
                    moved[d.dossier_id] = d
        packed = {r.hour: call_hours.unpack(r) for r in s.execute(select(call_hours.TABLE))}
    engine.dispose()
    # By hand: each call in the hour it was offered, its wait in milliseconds or marked,
    # placed by the last dossier naming it (marked when several do).
    expected: dict[int, dict[int, call_hours.Item]] = {}
    for c in calls:
        naming = [d for d in dossiers if d.call_id == c.call_id]
        wait, seconds = call_hours.NO_WAIT, None
        if c.answered_at is not None and c.wait_seconds is not None:
            wait = 4500 if c.wait_seconds == 4.5 else call_hours.APART
        elif c.answered_at is not None:  # answered a second after the offer, no wait
            wait, seconds = call_hours.UNTIMED, 1.0
        elif c.abandoned:
            wait, seconds = call_hours.ABANDONED, 7.25 if c.ended_at else -1.0
        commune, opened = call_hours.NO_PLACE, -1
        if naming:
            last = max(naming, key=lambda d: d.dossier_id)
            commune = last.commune
            opened = call_hours.SEVERAL if len(naming) > 1 else call_hours.hour_of(last.opened_at)
        hour = call_hours.hour_of(c.offered_at)
        item = call_hours.Item(wait, c.line, commune, opened, seconds)
        expected.setdefault(hour, {})[c.call_id] = item
    assert packed == expected
    places = call_places.count(dossiers)
    assert call_hours.count(calls, places) == expected
