"""Migration 0004's backfill: the event log folded into the ``stat_*`` tables.

A frozen copy of ``app.stats.fold`` and of the rebuild of ``app.stats.projection`` as
they were at revision 0004 (commit e5056c4): the same facts from the same events, read
and written through plain table definitions of that revision, not the live models.
Never edit it; a later change of the facts is a new migration with its own copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.db.types import UTCDateTime


@dataclass(slots=True)
class CallFact:
    call_id: int
    offered_at: datetime
    line: str
    answered_at: datetime | None = None
    wait_seconds: float | None = None
    answered_by: int | None = None
    ended_at: datetime | None = None
    abandoned: bool = False


@dataclass(slots=True)
class DossierFact:
    dossier_id: int
    opened_at: datetime
    line: str = ""
    call_id: int | None = None
    commune: str = ""
    priority: str | None = None
    track: str | None = None
    decision: str | None = None
    orientation: str | None = None
    moves: int = 0


@dataclass(slots=True)
class TaskFact:
    task_id: int
    dossier_id: int
    created_at: datetime | None
    deadline_at: datetime | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled: bool = False
    outcome: str | None = None
    no_solution_reason: str | None = None
    appointment_at: datetime | None = None
    seconds_to_outcome: float | None = None
    reopens: int = 0


@dataclass(slots=True)
class BookingFact:
    booking_id: int
    effecteur_id: int
    slot_id: int | None
    dossier_id: int | None
    appointment_at: datetime
    booked_at: datetime
    released_at: datetime | None = None


@dataclass(slots=True)
class AppointmentFact:
    appointment_id: int
    task_id: int | None
    dossier_id: int | None
    outcome: str | None
    appointment_at: datetime | None
    status: str
    status_at: datetime


@dataclass
class FactSet:
    calls: dict[int, CallFact] = field(default_factory=dict)
    dossiers: dict[int, DossierFact] = field(default_factory=dict)
    tasks: dict[int, TaskFact] = field(default_factory=dict)
    bookings: dict[int, BookingFact] = field(default_factory=dict)
    appointments: dict[int, AppointmentFact] = field(default_factory=dict)


@dataclass(slots=True)
class LoggedEvent:
    type: str
    at: datetime
    actor_id: int | None
    dossier_id: int | None
    task_id: int | None
    call_id: int | None
    data: dict[str, Any]


def parse_instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text[10:11] == " ":
        return datetime.fromisoformat(text + "+00:00")
    tail = text[19:]
    if "+" in tail or "-" in tail or tail.endswith("Z"):
        return datetime.fromisoformat(text)
    return datetime.fromisoformat(text + "+00:00")


def _call(f: FactSet, e: LoggedEvent) -> None:
    d = e.data
    if e.type == "call.offered":
        if e.call_id is not None and e.call_id not in f.calls:
            offered = parse_instant(d.get("offered_at")) or e.at
            f.calls[e.call_id] = CallFact(e.call_id, offered, d.get("line") or "")
        return
    c = f.calls.get(e.call_id) if e.call_id is not None else None
    if c is None:
        return
    if e.type == "call.answered":
        if c.answered_at is None:
            wait = d.get("wait_seconds")
            c.answered_at = c.offered_at + timedelta(seconds=wait) if wait is not None else e.at
            c.wait_seconds, c.answered_by = wait, e.actor_id
    elif e.type == "call.ended" and c.ended_at is None:
        c.ended_at = e.at
        c.abandoned = bool(d.get("abandoned")) and c.answered_at is None


def _dossier(f: FactSet, e: LoggedEvent) -> None:
    if e.dossier_id is None:
        return
    d = e.data
    if e.type == "dossier.opened":
        f.dossiers[e.dossier_id] = DossierFact(
            e.dossier_id, e.at, d.get("line") or "", call_id=d.get("call_id")
        )
        return
    x = f.dossiers.get(e.dossier_id)
    if x is None:
        return
    if e.type == "dossier.updated":
        changed = d.get("fields") or {}
        if changed.get("commune_insee") is not None:
            x.commune = changed["commune_insee"]
    elif e.type == "dossier.qualified":
        x.priority, x.track = d.get("priority"), d.get("track") or x.track
    elif e.type == "dossier.track_moved":
        x.track, x.decision, x.orientation = d.get("to_track"), None, None
        x.moves += 1
    elif e.type == "dossier.decided":
        x.track = d.get("track") or x.track
        x.decision, x.orientation = d.get("decision"), d.get("orientation")


def _task(f: FactSet, e: LoggedEvent) -> None:
    if e.task_id is None:
        return
    d = e.data
    t = f.tasks.get(e.task_id)
    if t is None:
        t = f.tasks[e.task_id] = TaskFact(e.task_id, e.dossier_id or 0, None)
    if e.type == "task.created":
        t.created_at, t.deadline_at = e.at, parse_instant(d.get("deadline_at"))
    elif e.type == "task.taken":
        t.taken_at = e.at
    elif e.type == "task.cancelled":
        t.cancelled, t.closed_at = True, e.at
    elif e.type == "task.closed":
        t.closed_at, t.outcome = e.at, d.get("outcome")
        t.no_solution_reason = d.get("no_solution_reason")
        t.appointment_at = parse_instant(d.get("appointment_at"))
        t.seconds_to_outcome = d.get("seconds_to_outcome")
    elif e.type == "task.reopened":
        t.taken_at, t.closed_at, t.cancelled, t.outcome = e.at, None, False, None
        t.no_solution_reason = t.appointment_at = t.seconds_to_outcome = None
        t.reopens += 1


def _booking(f: FactSet, e: LoggedEvent) -> None:
    b = e.data.get("booking") or {}
    bid = b.get("id")
    if bid is None:
        return
    if e.type == "slot.booked":
        f.bookings[bid] = BookingFact(
            bid,
            b.get("effecteur_id") or 0,
            b.get("slot_id"),
            b.get("dossier_id"),
            parse_instant(b.get("appointment_at")) or e.at,
            e.at,
        )
    elif bid in f.bookings and f.bookings[bid].released_at is None:
        f.bookings[bid].released_at = e.at


def _appointment(f: FactSet, e: LoggedEvent) -> None:
    d = e.data
    if e.type == "callback.appointment":
        ap = d.get("appointment") or {}
        aid = ap.get("id")
        if aid is not None:
            f.appointments[aid] = AppointmentFact(
                aid,
                e.task_id,
                e.dossier_id,
                d.get("outcome") or ap.get("outcome"),
                parse_instant(ap.get("at")),
                ap.get("status") or "BOOKED",
                e.at,
            )
        return
    aid = d.get("appointment_id")
    if aid is None:
        return
    a = f.appointments.get(aid)
    if a is None:
        a = f.appointments[aid] = AppointmentFact(
            aid, e.task_id, e.dossier_id, d.get("outcome"), None, "BOOKED", e.at
        )
    a.status, a.status_at = d.get("status") or a.status, e.at


_FOLDS: dict[str, Callable[[FactSet, LoggedEvent], None]] = {
    "call.offered": _call,
    "call.answered": _call,
    "call.ended": _call,
    "dossier.opened": _dossier,
    "dossier.updated": _dossier,
    "dossier.qualified": _dossier,
    "dossier.track_moved": _dossier,
    "dossier.decided": _dossier,
    "task.created": _task,
    "task.taken": _task,
    "task.cancelled": _task,
    "task.closed": _task,
    "task.reopened": _task,
    "slot.booked": _booking,
    "slot.released": _booking,
    "callback.appointment": _appointment,
    "callback.appointment_status": _appointment,
}

_EVENTS = sa.table(
    "events",
    sa.column("seq", sa.Integer()),
    sa.column("type", sa.String()),
    sa.column("at"),  # read raw: text on SQLite, parsed by parse_instant
    sa.column("actor_id", sa.Integer()),
    sa.column("dossier_id", sa.Integer()),
    sa.column("task_id", sa.Integer()),
    sa.column("call_id", sa.Integer()),
    sa.column("data"),  # text on SQLite, already decoded on PostgreSQL
)

_FACTS: dict[str, type] = {
    "stat_calls": CallFact,
    "stat_dossiers": DossierFact,
    "stat_tasks": TaskFact,
    "stat_bookings": BookingFact,
    "stat_appointments": AppointmentFact,
}
_SET_OF = {
    "stat_calls": "calls",
    "stat_dossiers": "dossiers",
    "stat_tasks": "tasks",
    "stat_bookings": "bookings",
    "stat_appointments": "appointments",
}


def _table(name: str, cls: type) -> sa.TableClause:
    columns = []
    for f in fields(cls):
        instant = "datetime" in str(f.type)
        columns.append(sa.column(f.name, UTCDateTime() if instant else None))
    return sa.table(name, *columns)


def backfill(conn: sa.Connection, chunk: int = 10_000) -> dict[str, int]:
    """Fold the whole log, in ``seq`` order, into the (empty) fact tables."""
    facts = FactSet()
    rows = conn.execute(
        sa.select(*_EVENTS.c).where(_EVENTS.c.type.in_(tuple(_FOLDS))).order_by(_EVENTS.c.seq)
    )
    for _seq, type_, at, actor, dossier, task, call, data in rows:
        at_ = parse_instant(at)
        assert at_ is not None
        payload = json.loads(data) if isinstance(data, str | bytes) else data or {}
        event = LoggedEvent(type_, at_, actor, dossier, task, call, payload)
        _FOLDS[type_](facts, event)
    counts = {}
    for name, cls in _FACTS.items():
        table = _table(name, cls)
        names = [f.name for f in fields(cls)]
        out = [
            dict(zip(names, astuple(x), strict=True))
            for x in getattr(facts, _SET_OF[name]).values()
        ]
        for i in range(0, len(out), chunk):
            conn.execute(sa.insert(table), out[i : i + chunk])
        counts[name] = len(out)
    return counts
