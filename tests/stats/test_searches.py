"""The searches the report counts in one pass (``app.stats.searches``) give the figures
the facts give, walked once per figure (``monthly_table``, ``commune_table``,
``task_stats``, ``profession_stats``, ``appointments_obtained`` over ``load_facts``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from app.stats.agenda import agenda_stats, appointments_obtained
from app.stats.aggregates import dossier_counts
from app.stats.communes import commune_table
from app.stats.facts import load_facts
from app.stats.metrics import profession_stats, snp_visits_per_week, task_stats
from app.stats.monthly import monthly_table
from app.stats.report import build_report
from app.stats.territory import load_territory
from tests.stats.room import Room
from tests.stats.test_projection import JUNE, play


@pytest.mark.parametrize("seed", [3, 4])
def test_the_counted_searches_equal_the_facts_figures(room: Room, seed: int) -> None:
    # From the last hours of May: searches created before the month, closed in it.
    room.clock.at(datetime(2023, 5, 31, 19, 0, tzinfo=UTC))
    play(room, random.Random(seed), 90)
    room.snp_task(insee="17300")  # still open
    room.clock.at(datetime(2023, 6, 30, 21, 30, tzinfo=UTC))  # 23:30 in Paris
    d, task = room.snp_task(insee="17369")
    room.clock.tick(3600)  # closed on the 1st of July
    room.close_task(task, "RDV_MT", dossier=d)

    with room.sessions() as s:
        report = build_report(s, JUNE)
        facts = load_facts(s, JUNE)
        t = load_territory(s)
        agenda = agenda_stats(facts.agenda.values(), JUNE, t)
        monthly = monthly_table(s, JUNE, facts=facts, territory=t)
        communes = commune_table(s, JUNE, facts=facts, territory=t, agenda=agenda)
        decisions = dossier_counts(s.connection(), JUNE).decisions
    tasks = list(facts.tasks.values())
    # The month reached every kind of search the counting treats apart.
    assert any(x.cancelled and x.closed_at and JUNE.contains(x.closed_at) for x in tasks)
    assert any(x.reopens for x in tasks)
    assert any(x.created_at and not JUNE.contains(x.created_at) for x in tasks)
    assert any(x.closed_at is None for x in tasks)
    assert any(x.closed_at and not JUNE.contains(x.closed_at) for x in tasks)
    assert {x.outcome for x in tasks} >= {"RDV_CRENEAU", "RDV_HORS_DISPO", "SANS_SOLUTION"}
    assert any(b.released_at is not None for b in facts.bookings.values())

    assert report.monthly == monthly
    assert report.communes == communes
    assert report.tasks == task_stats(tasks, JUNE)
    assert report.by_profession == profession_stats(facts, JUNE, decisions)
    assert report.appointments_obtained == appointments_obtained(facts, JUNE, agenda)
    assert report.snp_weeks == snp_visits_per_week(facts, report.weekly_cap)
    assert report.tasks.created and report.tasks.closed and report.tasks.cancelled
