"""The OSNP's monthly table (seed 003), counted instead of kept by hand.

One row per open day (and per other day that saw activity), a subtotal after each
week, the month's total. Columns: "Dossier OSNP" (searches handed to the OSNP that
day), per territory "Créneaux dispo" (places published, from the directory's slots)
and "RDV" (appointments on a published slot or hors disponibilité, counted in the
territory of the doctor who takes the patient), then "RDV MT", "RDV confrère du
cabinet" and the searches closed without a solution.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.domain.enums import TaskOutcome
from app.stats.calendar import OPEN_WEEKDAYS, Period, day_label, local_day, week_of
from app.stats.facts import Facts, booked_slots, load_facts
from app.stats.territory import OUTSIDE, Places, Territory, load_territory, published_places

TERRITORIAL = (TaskOutcome.RDV_CRENEAU, TaskOutcome.RDV_HORS_DISPO)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    group: str = ""  # territory name for the per-territory columns


@dataclass
class Row:
    kind: str  # "day", "week" or "month"
    label: str
    day: date | None
    values: dict[str, int]


@dataclass
class MonthlyTable:
    period: Period
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    def row(self, kind: str, label: str) -> Row:
        return next(r for r in self.rows if r.kind == kind and r.label == label)

    @property
    def total(self) -> Row:
        return next(r for r in self.rows if r.kind == "month")

    def days(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "day"]

    def weeks(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "week"]


def _columns(sectors: list[tuple[str, str]]) -> list[Column]:
    cols = [Column("dossiers_osnp", "Dossier OSNP")]
    for code, name in sectors:
        cols += [
            Column(f"slots:{code}", "Créneaux dispo", name),
            Column(f"rdv:{code}", "RDV", name),
        ]
    return cols + [
        Column("rdv_mt", "RDV MT"),
        Column("rdv_confrere", "RDV confrère du cabinet"),
        Column("sans_solution", "Sans solution"),
    ]


def _appointment_sector(facts: Facts, t: Territory, dossier_id: int) -> str:
    booking = facts.booking_of_dossier(dossier_id)
    if booking is not None:
        return t.effecteur_sector(booking.effecteur_id, booking.slot_id)
    d = facts.dossiers.get(dossier_id)  # recorded without the directory: patient's territory
    return t.sector_of(d.commune) if d and d.commune else OUTSIDE


def monthly_table(
    session: Session,
    period: Period,
    *,
    facts: Facts | None = None,
    territory: Territory | None = None,
    places: Places | None = None,
    searches: Mapping[date, Mapping[str, int]] | None = None,
) -> MonthlyTable:
    """``places``: read with ``territory`` (it places the booked slots); ``searches``:
    the searches' cells already counted (``app.stats.searches``), instead of the facts'."""
    t = territory or load_territory(session)
    if places is None:
        places = published_places(session, t, period.start, period.end, booked_slots(period))
    cells: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (day, sector), n in places.by_day.items():
        cells[day][f"slots:{sector}"] += n
    if searches is not None:
        for day, counts in searches.items():
            row = cells[day]  # a day a search closed on has its row, even with nothing
            for key, n in counts.items():
                row[key] += n
    else:
        _count_tasks(cells, facts or load_facts(session, period), t, period)
    return _table(period, t, cells)


def _count_tasks(
    cells: dict[date, dict[str, int]], facts: Facts, t: Territory, period: Period
) -> None:
    for task in facts.tasks.values():
        if task.created_at is not None and period.contains(task.created_at):
            cells[local_day(task.created_at)]["dossiers_osnp"] += 1
        if task.cancelled or task.closed_at is None or not period.contains(task.closed_at):
            continue
        closing = cells[local_day(task.closed_at)]
        if task.outcome in TERRITORIAL:
            closing[f"rdv:{_appointment_sector(facts, t, task.dossier_id)}"] += 1
        elif task.outcome == TaskOutcome.RDV_MT:
            closing["rdv_mt"] += 1
        elif task.outcome == TaskOutcome.RDV_CONFRERE:
            closing["rdv_confrere"] += 1
        elif task.outcome == TaskOutcome.SANS_SOLUTION:
            closing["sans_solution"] += 1


def _table(period: Period, t: Territory, cells: dict[date, dict[str, int]]) -> MonthlyTable:
    sectors = list(t.sectors)
    if any(k.endswith(f":{OUTSIDE}") for v in cells.values() for k in v):
        sectors.append((OUTSIDE, t.sector_name(OUTSIDE)))
    table = MonthlyTable(period, _columns(sectors))
    keys = [c.key for c in table.columns]
    days = [d for d in period.days() if d.weekday() in OPEN_WEEKDAYS or d in cells]
    week_sum: dict[str, int] = dict.fromkeys(keys, 0)
    month_sum: dict[str, int] = dict.fromkeys(keys, 0)
    for i, day in enumerate(days):
        values = {k: cells[day][k] if day in cells else 0 for k in keys}
        table.rows.append(Row("day", day_label(day), day, values))
        for k in keys:
            week_sum[k] += values[k]
            month_sum[k] += values[k]
        if i == len(days) - 1 or week_of(days[i + 1]) != week_of(day):
            monday = week_of(day)
            table.rows.append(Row("week", f"semaine du {monday:%d/%m}", monday, week_sum))
            week_sum = dict.fromkeys(keys, 0)
    table.rows.append(Row("month", f"total {period.label}", None, month_sum))
    return table
