"""The period's OSNP searches counted in one pass, for the report.

The report's search figures (the monthly table's searches and appointments, the
communes' decisions and appointments seen, ``task_stats``, the appointments per
wanted profession, « Nombre de RDV/visites ») used to come from the searches and
their dossiers loaded as facts, then walked once per figure. Here one narrow query
reads each search of the period beside the few columns of its dossier it needs
(joined on the dossier's key), with the period tests and the UTC hours done by the
database, and one loop counts every figure. The counts are those of
``monthly_table``, ``commune_table``, ``task_stats``, ``profession_stats`` and
``appointments_obtained`` over the facts; ``tests/stats/test_searches.py`` checks it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)

from app.domain.enums import TaskOutcome
from app.stats.calendar import Period, paris_hour
from app.stats.facts import BookingFact, parse_instant
from app.stats.metrics import TaskStats, percentile
from app.stats.models import StatDossier, StatTask
from app.stats.territory import OUTSIDE, Territory

TERRITORIAL = (TaskOutcome.RDV_CRENEAU, TaskOutcome.RDV_HORS_DISPO)


@dataclass
class SearchCounts:
    #: Paris day → the monthly table's search cells ("dossiers_osnp", "rdv:<sector>"…)
    cells: dict[date, Counter[str]] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)  # patient's commune → searches
    seen: Counter[str] = field(default_factory=Counter)  # place → appointments (unreported)
    tasks: TaskStats = field(default_factory=TaskStats)
    wanted: Counter[str] = field(default_factory=Counter)  # wanted key → appointments
    obtained: int = 0  # searches closed with an appointment
    searched: set[int] = field(default_factory=set)  # their dossiers


def _instant(col: Any, sqlite: bool) -> tuple[Any, Callable[[Any], datetime | None]]:
    """As ``app.stats.facts._maker`` reads an instant: raw text on SQLite, UTC appended
    (the parser is given no NULL)."""
    if sqlite:
        return type_coerce(col, String).concat(literal_column("'+00:00'")), datetime.fromisoformat
    return col, parse_instant


def _search_rows(
    conn: Connection, period: Period
) -> tuple[Sequence[Any], Callable[[Any], datetime | None]]:
    """The period's searches, each beside the few columns of its dossier counted, as the
    driver's rows; with the parser of their instants."""
    sqlite = conn.dialect.name == "sqlite"
    tk, dk = StatTask.__table__.c, StatDossier.__table__.c
    start, end = period.start, period.end
    created_in = and_(tk.created_at >= start, tk.created_at < end)
    closed_in = and_(tk.closed_at >= start, tk.closed_at < end)

    def hour(col: Any) -> Any:  # UTC "2023-06-01 10", as ``call_groups`` cuts it
        return func.substr(cast(col, String), 1, 13)

    created_at, parse = _instant(tk.created_at, sqlite)
    appointment_at, _ = _instant(tk.appointment_at, sqlite)
    # DossierFact.wanted_key, as text: "10/SM54", "60"; NULL when not a consultation.
    specialty = func.coalesce(literal_column("'/'").concat(func.nullif(dk.specialty, "")), "")
    wanted = case(
        (
            and_(
                dk.decision == "ORIENT",
                dk.orientation == "CONSULTATION_48H",
                dk.profession.is_not(None),
            ),
            dk.profession.concat(specialty),
        ),
        else_=None,
    )
    q = (
        select(
            tk.dossier_id,
            case((created_in, hour(tk.created_at)), else_=None),
            case((closed_in, hour(tk.closed_at)), else_=None),
            tk.cancelled,
            tk.outcome,
            tk.no_solution_reason,
            tk.seconds_to_outcome,
            created_at,
            appointment_at,
            case((tk.closed_at > tk.deadline_at, 1), else_=0),
            func.coalesce(dk.commune, ""),  # "" also without a dossier (``facts.dossiers``)
            wanted,
        )
        .select_from(
            StatTask.__table__.outerjoin(StatDossier.__table__, dk.dossier_id == tk.dossier_id)
        )
        .where(or_(created_in, closed_in))
    )
    result = conn.execute(q)
    assert result.cursor is not None
    rows = result.cursor.fetchall()  # the driver's rows, as ``load_facts`` reads them
    result.close()
    return rows, parse


def _day_cells(cells: dict[date, Counter[str]]) -> Callable[[str], Counter[str]]:
    """The monthly table's cell of a UTC hour ("2023-06-01 10"): its Paris day computed
    once per hour, the cell made on first use."""
    days: dict[str, date] = {}

    def cell_of(h: str) -> Counter[str]:
        day = days.get(h)
        if day is None:
            utc_hour = int(datetime.fromisoformat(f"{h}:00:00+00:00").timestamp()) // 3600
            day = days[h] = paris_hour(utc_hour)[0]
        cell = cells.get(day)
        if cell is None:
            cell = cells[day] = Counter()
        return cell

    return cell_of


def _closed_cell(
    outcome: str | None, booking: BookingFact | None, commune: str, t: Territory
) -> str | None:
    """The monthly table's cell a closed search counts in, if any (``monthly_table``): an
    appointment on a slot or beyond one counts in the receiving doctor's sector."""
    if outcome in TERRITORIAL:
        if booking is not None:
            sector = t.effecteur_sector(booking.effecteur_id, booking.slot_id)
        else:
            sector = t.sector_of(commune) if commune else OUTSIDE
        return f"rdv:{sector}"
    if outcome == TaskOutcome.RDV_MT:
        return "rdv_mt"
    if outcome == TaskOutcome.RDV_CONFRERE:
        return "rdv_confrere"
    if outcome == TaskOutcome.SANS_SOLUTION:
        return "sans_solution"
    return None


def search_counts(
    conn: Connection,
    period: Period,
    t: Territory,
    standing: dict[int, BookingFact],
    reported: Container[int],
) -> SearchCounts:
    """``standing``: per dossier, its booking still standing among the period's bookings
    (``Facts.standing_bookings``); ``reported``: dossiers whose appointments an agenda
    reported (their searches are not counted as seen a second time)."""
    rows, parse = _search_rows(conn, period)
    out = SearchCounts()
    s = out.tasks
    cell_of = _day_cells(out.cells)
    decisions, seen, wanted_counts, searched = out.decisions, out.seen, out.wanted, out.searched
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    delays: list[float] = []
    until: list[float] = []
    created = closed = cancelled_n = late_n = appointments = within_48h = 0
    for (
        dossier_id,
        created_hour,
        closed_hour,
        cancelled,
        outcome,
        reason,
        seconds,
        created_raw,
        appointment_raw,
        late,
        commune,
        key,
    ) in rows:
        if created_hour is not None:
            created += 1
            cell_of(created_hour)["dossiers_osnp"] += 1
            decisions[commune] += 1
        if closed_hour is None:
            continue
        if cancelled:
            cancelled_n += 1
            continue
        closed += 1
        outcomes[outcome or "?"] += 1
        late_n += late
        cell = cell_of(closed_hour)
        booking = standing.get(dossier_id)
        counted = _closed_cell(outcome, booking, commune, t)
        if counted is not None:
            cell[counted] += 1
        if outcome == TaskOutcome.SANS_SOLUTION:
            reasons[reason or "?"] += 1
            continue
        if not outcome:
            continue
        # An appointment: task_stats, the communes, the professions, the RDV/visites.
        appointments += 1
        if seconds is not None:
            delays.append(seconds / 3600)
        if appointment_raw is not None and created_raw is not None:
            hours = (parse(appointment_raw) - parse(created_raw)).total_seconds() / 3600  # type: ignore[operator]
            until.append(hours)
            within_48h += hours <= 48
        if dossier_id not in reported:
            if booking is not None:
                seen[t.effecteur_place(booking.effecteur_id, booking.slot_id or None)] += 1
            else:
                seen[commune] += 1
        if key is not None:
            wanted_counts[key] += 1
        searched.add(dossier_id)
    s.created, s.closed, s.cancelled = created, closed, cancelled_n
    s.appointments, s.closed_after_deadline = appointments, late_n
    s.consultation_within_48h = within_48h
    out.obtained = appointments
    _spread(s, outcomes, reasons, delays, until)
    return out


def _spread(
    s: TaskStats,
    outcomes: Counter[str],
    reasons: Counter[str],
    delays: list[float],
    until: list[float],
) -> None:
    """``task_stats``' outcomes, reasons of no solution and delays (hours)."""
    s.by_outcome = {str(o): outcomes.get(str(o), 0) for o in TaskOutcome}
    s.no_solution_reasons = dict(sorted(reasons.items()))
    s.to_appointment_p50_hours = percentile(delays, 50)
    s.to_appointment_p90_hours = percentile(delays, 90)
    s.to_consultation_p50_hours = percentile(until, 50)
