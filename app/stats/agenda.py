"""Appointments the agendas reported, counted: per effecteur, commune, CPTS and day.

Each appointment an editor or the national platform reported counts once, on the
Paris day of the consultation, in the commune of the practice that receives the
patient (the effecteur's first practice) and in that commune's CPTS territory:
"RDV pris" (every appointment made), then its fate as the agenda last reported it —
"RDV SAS réalisés" (fulfilled), "Patients non venus" (noshow), "RDV annulés"
(cancelled) — or "Issue non connue" while it is still only booked.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, TypeVar

from app.domain.enums import TaskOutcome
from app.stats.calendar import Period, local_day
from app.stats.facts import AgendaAppointmentFact, Facts
from app.stats.territory import OUTSIDE, Territory

#: FHIR's appointment statuses as the agendas send them (FrAppointmentSAS).
BOOKED, FULFILLED, NOSHOW, CANCELLED = "booked", "fulfilled", "noshow", "cancelled"

#: The counts' column labels, in the seeds' words (seed 004: « RDV SAS réalisés »).
LABELS = ["RDV pris", "RDV SAS réalisés", "Patients non venus", "RDV annulés", "Issue non connue"]


@dataclass
class AgendaCounts:
    made: int = 0  # every appointment reported, whatever became of it
    fulfilled: int = 0
    noshow: int = 0
    cancelled: int = 0
    booked: int = 0  # still booked: no fate reported yet

    def add(self, status: str) -> None:
        self.made += 1
        if status == FULFILLED:
            self.fulfilled += 1
        elif status == NOSHOW:
            self.noshow += 1
        elif status == CANCELLED:
            self.cancelled += 1
        else:
            self.booked += 1

    def row(self) -> list[int]:
        return [self.made, self.fulfilled, self.noshow, self.cancelled, self.booked]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AgendaStats:
    month: AgendaCounts = field(default_factory=AgendaCounts)
    by_day: dict[date, AgendaCounts] = field(default_factory=dict)
    by_effecteur: dict[int | None, AgendaCounts] = field(default_factory=dict)
    by_commune: dict[str, AgendaCounts] = field(default_factory=dict)  # INSEE, "" unknown
    by_sector: dict[str, AgendaCounts] = field(default_factory=dict)  # OUTSIDE: elsewhere
    #: effecteur → (INSEE of its practice, sector): where its appointments were counted
    places: dict[int | None, tuple[str, str]] = field(default_factory=dict)
    #: dossier → the fates its appointments were reported with (attached ones only)
    fates_of_dossier: dict[int, set[str]] = field(default_factory=dict)


K = TypeVar("K", bound=Hashable)


def _add(groups: dict[K, AgendaCounts], key: K, status: str) -> None:
    counts = groups.get(key)
    if counts is None:
        counts = groups[key] = AgendaCounts()
    counts.add(status)


def agenda_stats(
    appointments: Iterable[AgendaAppointmentFact], period: Period, t: Territory
) -> AgendaStats:
    s = AgendaStats()
    for a in sorted(appointments, key=lambda a: (a.start, a.appointment_id)):
        if not period.contains(a.start):
            continue
        place = s.places.get(a.effecteur_id)
        if place is None:
            insee = t.effecteur_place(a.effecteur_id) if a.effecteur_id is not None else ""
            sector = t.effecteur_sector(a.effecteur_id) if a.effecteur_id is not None else OUTSIDE
            place = s.places[a.effecteur_id] = (insee, sector)
        _add(s.by_day, local_day(a.start), a.status)
        _add(s.by_effecteur, a.effecteur_id, a.status)
        _add(s.by_commune, place[0], a.status)
        _add(s.by_sector, place[1], a.status)
        s.month.add(a.status)
        if a.dossier_id is not None:
            s.fates_of_dossier.setdefault(a.dossier_id, set()).add(a.status)
    return s


def appointments_obtained(
    facts: Facts,
    period: Period,
    agenda: AgendaStats,
    searched: tuple[int, set[int]] | None = None,
) -> int:
    """Seed 001's « Nombre de RDV/visites »: the OSNP's searches closed in the period
    with an appointment, and the appointments the agendas reported for the period that
    no such search already counts (not cancelled; made from the platform, or attached
    to a dossier whose search did not end in the period). ``searched``: those searches
    already counted, and their dossiers (``app.stats.searches``), instead of the facts'."""
    n, dossiers = searched if searched is not None else _searched(facts, period)
    for a in facts.agenda.values():
        if period.contains(a.start) and a.status != CANCELLED and a.dossier_id not in dossiers:
            n += 1
    return n


def _searched(facts: Facts, period: Period) -> tuple[int, set[int]]:
    searched: set[int] = set()
    n = 0
    for task in facts.tasks.values():
        if (
            not task.cancelled
            and task.closed_at is not None
            and period.contains(task.closed_at)
            and task.outcome
            and task.outcome != TaskOutcome.SANS_SOLUTION
        ):
            searched.add(task.dossier_id)
            n += 1
    return n, searched
