"""Each call's territory (``stat_call_places``): kept by the projector unit by unit as
a hand count of the dossiers says, and a call that several dossiers name placed in
the report as the facts place it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.db.models import Dossier, Event
from app.hub.events import EventName
from app.stats import call_places
from app.stats.facts import DossierFact, load_facts
from app.stats.metrics import call_stats, group
from app.stats.models import StatCallPlace
from app.stats.projection import project
from app.stats.report import NO_DOSSIER, build_report
from app.stats.territory import load_territory
from tests.stats.room import Room
from tests.stats.test_projection import JUNE

T0 = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)
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
    StatCallPlace.__table__.create(engine)
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
