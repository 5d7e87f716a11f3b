"""Facts: one record per call, dossier, OSNP search, booking, call-back appointment and
appointment reported by an agenda.

They are folded from the event log (``app.stats.fold``) and kept in the ``stat_*``
tables (``app.stats.models``) as events are written, so a report reads a few narrow
rows per dossier instead of the whole log. The state tables are read only for
dimensions that never change a count (a commune's sector, a practice's commune).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Engine, String, and_, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session

from app.db.types import UTCDateTime
from app.stats.calendar import Period
from app.stats.models import (
    StatAgendaAppointment,
    StatAppointment,
    StatBooking,
    StatCall,
    StatDossier,
    StatTask,
)

#: Dossiers opened this long before the period are read with it (a search closed in
#: the period for a dossier of the previous days), and bookings made this long before.
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
    call_id: int | None = None
    commune: str = ""
    priority: str | None = None
    track: str | None = None  # where it ended (or stands): moves are followed
    decision: str | None = None
    orientation: str | None = None
    moves: int = 0
    profession: str | None = None  # a consultation's TRE-G15 code (app.domain.professions)
    specialty: str | None = None  # its TRE-R38 code, "" for other professions

    @property
    def oriented_to_consultation(self) -> bool:
        return self.decision == "ORIENT" and self.orientation == "CONSULTATION_48H"

    @property
    def wanted_key(self) -> str | None:
        """The statistics line of a consultation ("10/SM54", "60"); None otherwise."""
        if not self.oriented_to_consultation or self.profession is None:
            return None
        return f"{self.profession}/{self.specialty}" if self.specialty else self.profession


@dataclass(slots=True)
class TaskFact:
    task_id: int
    dossier_id: int
    created_at: datetime | None  # None: its creation is not in the log
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
    """A call-back appointment: BOOKED, CONFIRMED, HONOURED, NO_SHOW or CANCELLED."""

    appointment_id: int
    task_id: int | None
    dossier_id: int | None
    outcome: str | None
    appointment_at: datetime | None
    status: str
    status_at: datetime


@dataclass(slots=True)
class AgendaAppointmentFact:
    """An appointment reported by an agenda (an editor's FHIR feedback, the national
    platform's RS-SAS-RDV): booked, fulfilled, noshow or cancelled (FHIR's codes)."""

    appointment_id: int
    source: str
    effecteur_id: int | None
    dossier_id: int | None
    start: datetime  # the consultation: its Paris day is the day it counts on
    received_at: datetime
    status: str
    status_at: datetime


@dataclass
class FactSet:
    """Facts keyed by their entity's id: what the fold updates."""

    calls: dict[int, CallFact] = field(default_factory=dict)
    dossiers: dict[int, DossierFact] = field(default_factory=dict)
    tasks: dict[int, TaskFact] = field(default_factory=dict)
    bookings: dict[int, BookingFact] = field(default_factory=dict)
    appointments: dict[int, AppointmentFact] = field(default_factory=dict)
    agenda: dict[int, AgendaAppointmentFact] = field(default_factory=dict)


@dataclass
class Facts(FactSet):
    """The facts one period's statistics need."""

    period: Period | None = None

    def booking_of_dossier(self, dossier_id: int) -> BookingFact | None:
        """The dossier's last booking still standing (a released one gave its place back)."""
        return self.standing_bookings().get(dossier_id)

    def standing_bookings(self) -> dict[int, BookingFact]:
        """Per dossier, its last booking still standing (the later of two booked at the
        same instant: the one read last), found in one pass over the bookings."""
        cached: dict[int, BookingFact] | None = getattr(self, "_standing", None)
        if cached is None:
            cached = {}
            for b in self.bookings.values():
                if b.dossier_id is None or b.released_at is not None:
                    continue
                best = cached.get(b.dossier_id)
                if best is None or b.booked_at >= best.booked_at:
                    cached[b.dossier_id] = b
            self._standing = cached
        return cached

    def dossier_of_call(self, call_id: int) -> DossierFact | None:
        by_call: dict[int, DossierFact] | None = getattr(self, "_by_call", None)
        if by_call is None:
            by_call = {d.call_id: d for d in self.dossiers.values() if d.call_id is not None}
            self._by_call = by_call
        return by_call.get(call_id)


#: FactSet attribute → (fact class, table); a class's fields are its table's columns.
FACT_TABLES: dict[str, tuple[type, Any]] = {
    "calls": (CallFact, StatCall.__table__),
    "dossiers": (DossierFact, StatDossier.__table__),
    "tasks": (TaskFact, StatTask.__table__),
    "bookings": (BookingFact, StatBooking.__table__),
    "appointments": (AppointmentFact, StatAppointment.__table__),
    "agenda": (AgendaAppointmentFact, StatAgendaAppointment.__table__),
}


@contextmanager
def gc_paused() -> Iterator[None]:
    """For code that makes a few hundred thousand small objects and frees none of them
    until it returns (a report, a rebuild): the cyclic collector's passes over them
    (each generation-2 pass walks them all) cost more than reading the facts, and
    they leave nothing cyclic behind."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_instant(value: Any) -> datetime | None:
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


def _maker(
    cls: type, table: Any, sqlite: bool
) -> tuple[list[Any], Callable[[Sequence[Any]], list[Any]]]:
    """What to select for a fact class (its table's columns, in its fields' order) and
    a row → fact converter. Rows are read raw from the driver, without per-value hooks
    (they cost more than the read itself over a month of facts): on SQLite an instant
    is stored as naive UTC text, so it is selected with "+00:00" appended and parsed
    by ``datetime.fromisoformat`` directly."""
    cols = [table.c[f.name] for f in fields(cls)]
    instants = [i for i, c in enumerate(cols) if isinstance(c.type, UTCDateTime)]
    flags = [i for i, c in enumerate(cols) if isinstance(c.type, Boolean)] if sqlite else []
    if sqlite:
        utc: Any = literal_column("'+00:00'")
        cols = [
            type_coerce(c, String).concat(utc) if i in instants else c for i, c in enumerate(cols)
        ]
    parse: Callable[[Any], datetime | None] = datetime.fromisoformat if sqlite else parse_instant

    def make(rows: Sequence[Any]) -> list[Any]:
        """Column by column: the instants parsed in one comprehension each, the facts
        built by ``map`` (this is the report's hottest loop)."""
        if not rows:
            return []
        columns: list[Any] = list(zip(*rows, strict=True))
        for i in instants:
            columns[i] = [None if v is None else parse(v) for v in columns[i]]
        for i in flags:  # SQLite keeps a boolean as 0 / 1
            columns[i] = [bool(v) for v in columns[i]]
        return list(map(cls, *columns))

    return cols, make


def _periods(period: Period) -> dict[str, Callable[[Any], Any]]:
    """Per fact table, which of its rows a period's statistics read."""
    start, end = period.start, period.end
    return {
        "calls": lambda t: and_(t.c.offered_at >= start, t.c.offered_at < end),
        "dossiers": lambda t: and_(t.c.opened_at >= start - MARGIN, t.c.opened_at < end),
        "tasks": lambda t: or_(
            and_(t.c.created_at >= start, t.c.created_at < end),
            and_(t.c.closed_at >= start, t.c.closed_at < end),
        ),
        "bookings": lambda t: and_(t.c.booked_at >= start - MARGIN, t.c.booked_at < end),
        "appointments": lambda t: and_(t.c.status_at >= start, t.c.status_at < end),
        "agenda": lambda t: and_(t.c.start >= start, t.c.start < end),
    }


def booked_slots(period: Period) -> Any:
    """A select of the slots held by the bookings the period's facts read."""
    t = StatBooking.__table__
    return select(t.c.slot_id).where(_periods(period)["bookings"](t), t.c.slot_id.is_not(None))


def engine_of(session: Session) -> Engine:
    """The engine under a session: the facts are read, and the queue folded, on
    connections of their own."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def load_facts(
    session: Session, period: Period, *, searches_only: bool = False, searches: bool = True
) -> Facts:
    """Every fact the period's statistics need, read from the fact tables.
    ``searches_only``: no calls, and only the dossiers of the period's searches and
    appointments (the report counts calls and dossiers in the database,
    ``app.stats.aggregates``); without ``searches`` (with ``searches_only``), no
    searches either, and only the appointments' dossiers (the report counts the
    searches in one pass, ``app.stats.searches``)."""
    facts = Facts(period=period)
    where = _periods(period)
    engine = engine_of(session)
    sqlite = engine.dialect.name == "sqlite"
    if searches_only:
        tasks, appointments = StatTask.__table__, StatAppointment.__table__
        of_appointments = select(appointments.c.dossier_id).where(
            where["appointments"](appointments)
        )
        if searches:
            where["dossiers"] = lambda t: or_(
                t.c.dossier_id.in_(select(tasks.c.dossier_id).where(where["tasks"](tasks))),
                t.c.dossier_id.in_(of_appointments),
            )
        else:
            where["dossiers"] = lambda t: t.c.dossier_id.in_(of_appointments)
    # Its own connection, so the reads see what is committed, beside the session's work.
    with engine.connect() as conn:
        if sqlite:  # map the file: the scan reads pages without copying them
            conn.exec_driver_sql("PRAGMA mmap_size=1073741824")
        for name, (cls, table) in FACT_TABLES.items():
            if searches_only and (name == "calls" or (name == "tasks" and not searches)):
                continue
            cols, make = _maker(cls, table, sqlite)
            result = conn.execute(select(*cols).where(where[name](table)))
            assert result.cursor is not None
            rows = result.cursor.fetchall()  # the driver's rows: instants as text on SQLite
            result.close()
            target: dict[int, Any] = getattr(facts, name)
            target.update((row[0], fact) for row, fact in zip(rows, make(rows), strict=True))
        # The dossiers of searches and appointments that ended in the period, when they
        # were opened longer ago than the margin: their commune places them.
        wanted = {t.dossier_id for t in facts.tasks.values()} | {
            a.dossier_id for a in facts.appointments.values() if a.dossier_id is not None
        }
        missing = sorted(i for i in wanted - facts.dossiers.keys() if i)
        cls, table = FACT_TABLES["dossiers"]
        cols, make = _maker(cls, table, sqlite)
        for i in range(0, len(missing), 500):
            result = conn.execute(select(*cols).where(cols[0].in_(missing[i : i + 500])))
            assert result.cursor is not None
            rows = result.cursor.fetchall()
            facts.dossiers.update((row[0], f) for row, f in zip(rows, make(rows), strict=True))
            result.close()
    return facts
