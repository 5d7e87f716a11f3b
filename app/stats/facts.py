"""Facts rebuilt from the event log: one record per call, dossier, task and booking.

Only ``events`` is read for what happened and when; the state tables are read for
dimensions that never change a count (a commune's sector, a practice's commune).
Each query reads one or a few event types through the (type, at) index and lets the
database extract the few JSON fields it needs, so no payload is parsed in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, select, type_coerce
from sqlalchemy.orm import Session

from app.db.models import Event
from app.stats.calendar import Period

#: Events of an entity born in the period are read this long after it (a dossier
#: forwarded, a task closed within its 48 h, a booking released), and this long
#: before it (the booking made before the task was closed).
MARGIN = timedelta(days=7)


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

    @property
    def abandon_wait(self) -> float | None:
        if not self.abandoned or self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.offered_at).total_seconds())


@dataclass(slots=True)
class DossierFact:
    dossier_id: int
    opened_at: datetime
    line: str = ""
    commune: str = ""
    priority: str | None = None
    track: str | None = None  # where it ended (or stands): moves are followed
    decision: str | None = None
    orientation: str | None = None
    moves: int = 0

    @property
    def oriented_to_consultation(self) -> bool:
        return self.decision == "ORIENT" and self.orientation == "CONSULTATION_48H"


@dataclass(slots=True)
class TaskFact:
    task_id: int
    dossier_id: int
    created_at: datetime | None  # None: created before the window, closed in it
    deadline_at: datetime | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled: bool = False
    outcome: str | None = None
    no_solution_reason: str | None = None
    appointment_at: datetime | None = None
    seconds_to_outcome: float | None = None


@dataclass(slots=True)
class BookingFact:
    booking_id: int
    effecteur_id: int
    slot_id: int | None
    dossier_id: int | None
    appointment_at: datetime
    booked_at: datetime
    released_at: datetime | None = None


@dataclass
class Facts:
    period: Period
    calls: dict[int, CallFact] = field(default_factory=dict)
    dossiers: dict[int, DossierFact] = field(default_factory=dict)
    tasks: dict[int, TaskFact] = field(default_factory=dict)
    bookings: dict[int, BookingFact] = field(default_factory=dict)

    def booking_of_dossier(self, dossier_id: int) -> BookingFact | None:
        """The dossier's last booking still standing (a released one gave its place back)."""
        best = None
        for b in self._bookings_by_dossier().get(dossier_id, ()):
            if b.released_at is None and (best is None or b.booked_at >= best.booked_at):
                best = b
        return best

    def _bookings_by_dossier(self) -> dict[int, list[BookingFact]]:
        cached: dict[int, list[BookingFact]] | None = getattr(self, "_by_dossier", None)
        if cached is None:
            cached = {}
            for b in self.bookings.values():
                if b.dossier_id is not None:
                    cached.setdefault(b.dossier_id, []).append(b)
            self._by_dossier = cached
        return cached


def _dt(value: Any) -> datetime | None:
    """An instant from a JSON string, or from a column read raw (text on SQLite)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text[10:11] == " ":  # SQLite's storage of a UTC instant: naive, space-separated
        return datetime.fromisoformat(text + "+00:00")
    tail = text[19:]
    if "+" in tail or "-" in tail or tail.endswith("Z"):
        return datetime.fromisoformat(text)
    return datetime.fromisoformat(text + "+00:00")  # naive, as SQLite stores it: UTC


class _Reader:
    """Runs one narrow query per event type (or a few types) on one connection.

    The database does the filtering and the JSON extraction; Python only folds rows.
    Rows come in index order, not ``seq`` order: folds that depend on order sort by
    ``seq`` first. (Threads were tried: on SQLite they made it slower.)
    """

    def __init__(self, session: Session, period: Period):
        bind = session.get_bind()
        self.engine: Engine = bind if isinstance(bind, Engine) else bind.engine
        self.lo, self.hi = period.start - MARGIN, period.end + MARGIN
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.at = type_coerce(Event.at, String) if self.sqlite else Event.at

    def query(self, types: tuple[str, ...], *cols: Any, where: Any = None) -> Any:
        q = select(*cols).where(Event.type.in_(types) if len(types) > 1
                                else Event.type == types[0], Event.at >= self.lo,
                                Event.at < self.hi)
        return q if where is None else q.where(where)

    def fetch_all(self, queries: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
        with self.engine.connect() as conn:
            if self.sqlite:  # map the file: the scan reads pages without copying them
                conn.exec_driver_sql("PRAGMA mmap_size=1073741824")
            out: dict[str, list[tuple[Any, ...]]] = {}
            for key, q in queries.items():
                result = conn.execute(q)
                # The driver's rows as they are: the selected columns need no conversion
                # (JSON values come out typed, instants as text on SQLite, see _dt).
                out[key] = list(result.cursor.fetchall()) if result.cursor is not None else []
                result.close()
            return out


def _queries(r: _Reader) -> dict[str, Any]:
    d, at = Event.data, r.at
    commune = d[("fields", "commune_insee")].as_string()
    return {
        "offered": r.query(("call.offered",), Event.call_id, at, d["line"].as_string()),
        "answered": r.query(("call.answered",), Event.call_id, at, d["wait_seconds"].as_float(),
                            Event.actor_id),
        "abandoned": r.query(("call.ended",), Event.call_id, at,
                             where=d["abandoned"].as_boolean()),
        "opened": r.query(("dossier.opened",), Event.dossier_id, at, d["line"].as_string()),
        "commune": r.query(("dossier.updated",), Event.seq, Event.dossier_id, commune,
                           where=commune.is_not(None)),
        "track": r.query(("dossier.qualified", "dossier.track_moved", "dossier.decided"),
                         Event.seq, Event.type, Event.dossier_id, d["priority"].as_string(),
                         d["track"].as_string(), d["to_track"].as_string(),
                         d["decision"].as_string(), d["orientation"].as_string()),
        "tasks": r.query(_TASK_TYPES, Event.seq, Event.type, Event.task_id, Event.dossier_id, at,
                         d["deadline_at"].as_string(), d["outcome"].as_string(),
                         d["no_solution_reason"].as_string(), d["appointment_at"].as_string(),
                         d["seconds_to_outcome"].as_float()),
        "bookings": r.query(("slot.booked", "slot.released"), Event.seq, Event.type, at,
                            d[("booking", "id")].as_integer(),
                            d[("booking", "effecteur_id")].as_integer(),
                            d[("booking", "slot_id")].as_integer(),
                            d[("booking", "dossier_id")].as_integer(),
                            d[("booking", "appointment_at")].as_string()),
    }


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def _calls(rows: dict[str, list[Any]], facts: Facts) -> None:
    calls = facts.calls
    for call_id, at, line in rows["offered"]:
        if call_id is not None and call_id not in calls:  # a forked call is offered once
            calls[call_id] = CallFact(call_id, _dt(at), line or "")  # type: ignore[arg-type]
    for call_id, at, wait, actor in rows["answered"]:
        c = calls.get(call_id)
        if c is not None and c.answered_at is None:
            # wait_seconds is answered_at − offered_at by construction (app.hub.service).
            c.answered_at = c.offered_at + timedelta(seconds=wait) if wait is not None \
                else _dt(at)
            c.wait_seconds, c.answered_by = wait, actor
    for call_id, at in rows["abandoned"]:
        c = calls.get(call_id)
        if c is not None and c.answered_at is None and c.ended_at is None:
            c.ended_at, c.abandoned = _dt(at), True


_TASK_TYPES = ("task.created", "task.taken", "task.closed", "task.cancelled")


def _dossiers(rows: dict[str, list[Any]], facts: Facts) -> None:
    dossiers = facts.dossiers
    for dossier_id, at, line in rows["opened"]:
        if dossier_id is not None:
            dossiers[dossier_id] = DossierFact(dossier_id, _dt(at), line or "")  # type: ignore[arg-type]
    seen: dict[int, int] = {}
    for seq, dossier_id, commune in rows["commune"]:
        f = dossiers.get(dossier_id)
        if f is not None and seq > seen.get(dossier_id, 0):
            f.commune, seen[dossier_id] = commune, seq
    # In seq order: a move clears the decision taken before it, as the hub does.
    for _seq, type_, dossier_id, prio, track, to_track, decision, orientation in sorted(
            rows["track"], key=_first):
        f = dossiers.get(dossier_id)
        if f is None:
            continue
        if type_ == "dossier.qualified":
            f.priority, f.track = prio, track or f.track
        elif type_ == "dossier.track_moved":
            f.track, f.decision, f.orientation = to_track, None, None
            f.moves += 1
        else:
            f.track, f.decision, f.orientation = track or f.track, decision, orientation


def _tasks(rows: dict[str, list[Any]], facts: Facts) -> None:
    tasks = facts.tasks
    for (_seq, type_, task_id, dossier_id, at, deadline, outcome, reason, appt,
         delay) in sorted(rows["tasks"], key=_first):
        if task_id is None:
            continue
        t = tasks.get(task_id)
        if t is None:  # created before the window but ended in it: counts on its closing day
            t = tasks[task_id] = TaskFact(task_id, dossier_id or 0, None)
        if type_ == "task.created":
            t.created_at, t.deadline_at = _dt(at), _dt(deadline)
        elif type_ == "task.taken":
            t.taken_at = _dt(at)
        elif type_ == "task.cancelled":
            t.cancelled, t.closed_at = True, _dt(at)
        elif type_ == "task.closed":
            t.closed_at, t.outcome, t.no_solution_reason = _dt(at), outcome, reason
            t.appointment_at, t.seconds_to_outcome = _dt(appt), delay


def _bookings(rows: dict[str, list[Any]], facts: Facts) -> None:
    for _seq, type_, at, bid, eff, slot, dossier, appt in sorted(rows["bookings"], key=_first):
        if bid is None:
            continue
        when = _dt(at)
        assert when is not None
        if type_ == "slot.booked":
            facts.bookings[bid] = BookingFact(bid, eff, slot, dossier, _dt(appt) or when, when)
        elif bid in facts.bookings:
            facts.bookings[bid].released_at = when


def load_facts(session: Session, period: Period) -> Facts:
    """Every fact the period's statistics need, rebuilt from the event log."""
    facts = Facts(period)
    reader = _Reader(session, period)
    rows = reader.fetch_all(_queries(reader))
    _calls(rows, facts)
    _dossiers(rows, facts)
    _tasks(rows, facts)
    _bookings(rows, facts)
    return facts
