"""The fact tables kept in step with the log: folded in batches, or rebuilt.

Every event is queued in ``stat_pending`` by the transaction that inserts it (a trigger,
migration 0026). ``catch_up`` folds the queued events in ``seq`` order: it reads the few
facts they touch, folds the events into them (``app.stats.fold``), writes back what
changed and empties the queue, all in one transaction. The hub runs it on its writer
every few dozen events (app.stats.hub), and every statistics read runs it first
(``build_report``): a report counts every event committed before it was asked for.

The hub used to fold each unit's events inside the unit, one intent at a time: the fold's
reads and writes then cost the single writer more than the intent they followed. Folded
together, the events of a batch share those round trips. ``project`` still folds given
events in the caller's transaction (a bare service's projector, tools and tests).

``rebuild`` empties the tables and folds the whole log through the same ``fold``
(migration 0004's backfill, ``sasdesk stats rebuild``, the benchmark).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app.db.fast import Fast
from app.db.models import Event
from app.hub.events import EventName
from app.stats import call_hours, call_places, dossier_days
from app.stats.facts import FACT_TABLES, FactSet, gc_paused, parse_instant
from app.stats.fold import FACT_EVENT_TYPES, EventLike, fold
from app.stats.models import StatPending

TABLES: dict[str, Any] = {name: table for name, (_cls, table) in FACT_TABLES.items()}
_TYPES = frozenset(FACT_EVENT_TYPES)


def _keys(events: Iterable[Any]) -> dict[str, set[int]]:
    """The ids of the facts these events may touch (what ``fold`` looks up)."""
    keys: dict[str, set[int]] = {name: set() for name in TABLES}
    for e in events:
        kind = e.type.split(".", 1)[0]
        if kind == "call" and e.call_id is not None:
            keys["calls"].add(e.call_id)
        elif kind == "dossier" and e.dossier_id is not None:
            keys["dossiers"].add(e.dossier_id)
        elif kind == "task" and e.task_id is not None:
            keys["tasks"].add(e.task_id)
        elif kind == "slot":
            bid = (e.data.get("booking") or {}).get("id")
            if bid is not None:
                keys["bookings"].add(bid)
        elif kind == "callback":
            aid = (e.data.get("appointment") or {}).get("id", e.data.get("appointment_id"))
            if aid is not None:
                keys["appointments"].add(aid)
        elif kind == "appointment":
            aid = (e.data.get("appointment") or {}).get("id")
            if aid is not None:
                keys["agenda"].add(aid)
    return keys


def _row(fact: Any) -> dict[str, Any]:
    return {f.name: getattr(fact, f.name) for f in fields(fact)}


@dataclass(frozen=True)
class _Statements:
    """One fact table's statements, built once: each unit of work only binds values
    (a statement built per call costs its cache key, every time, on the single writer)."""

    names: tuple[str, ...]
    select: Any
    #: The same read for one fact, and the writes, run on the driver's cursor
    #: (app.db.fast): a unit of work touches one fact of a table, as a rule.
    select_one: Fast
    insert: Fast
    update: Fast

    @classmethod
    def of(cls, fact: type, table: Any) -> _Statements:
        names = tuple(f.name for f in fields(fact))
        pk = table.primary_key.columns[0]
        cols = [table.c[n] for n in names]
        return cls(
            names,
            select(*cols).where(cols[0].in_(bindparam("ids", expanding=True))),
            Fast(select(*cols).where(cols[0] == bindparam("id"))),
            Fast(insert(table), names),
            Fast(
                update(table)
                .where(pk == bindparam("_pk"))
                .values({n: bindparam(f"_{n}") for n in names if n != pk.name})
            ),
        )

    def values(self, fact: Any) -> tuple[Any, ...]:
        # Shallow (facts hold scalars only): ``dataclasses.astuple`` deep-copies every
        # value, on the hot path.
        return tuple(getattr(fact, n) for n in self.names)


_STATEMENTS = {name: _Statements.of(cls, table) for name, (cls, table) in FACT_TABLES.items()}


#: Events written in the same transaction as the row they describe (the call, dossier or
#: task is created by that very unit of work): its fact cannot exist yet, nothing to read.
_BORN = {
    "calls": EventName.CALL_OFFERED,
    "dossiers": EventName.DOSSIER_OPENED,
    "tasks": EventName.TASK_CREATED,
}


def _born(events: Iterable[Any]) -> dict[str, set[int]]:
    born: dict[str, set[int]] = {name: set() for name in _BORN}
    for e in events:
        if e.type == _BORN["calls"] and e.call_id is not None:
            born["calls"].add(e.call_id)
        elif e.type == _BORN["dossiers"] and e.dossier_id is not None:
            born["dossiers"].add(e.dossier_id)
        elif e.type == _BORN["tasks"] and e.task_id is not None:
            born["tasks"].add(e.task_id)
    return born


_PENDING = cast(Table, StatPending.__table__)
#: What the fold reads of an event, after its seq (the queue's and the log's reads).
_FOLDED = (
    Event.type,
    Event.at,
    Event.actor_id,
    Event.dossier_id,
    Event.task_id,
    Event.call_id,
    Event.data,
)
#: The queued events, oldest first, with what the fold reads of them (an event purged by
#: the retention before it was folded comes back without its columns).
_QUEUED = (
    select(_PENDING.c.seq, *_FOLDED)
    .select_from(_PENDING.outerjoin(Event.__table__, Event.seq == _PENDING.c.seq))
    .order_by(_PENDING.c.seq)
    .limit(bindparam("limit"))
)
_DEQUEUE = delete(_PENDING).where(_PENDING.c.seq.in_(bindparam("seqs", expanding=True)))
#: The key of the PostgreSQL advisory lock the catch-ups take: one at a time on a
#: database several hubs share, so that no event is folded twice.
LOCK_KEY = 0x5A5D_E5C5_7A75
#: The most events one catch-up reads at a time (a long queue is folded in several).
CATCH_UP_BATCH = 5_000


def catch_up(conn: Connection, *, wait: bool = True) -> int | None:
    """Fold every queued event into the facts, in ``conn``'s transaction; how many.

    ``wait=False``: if another hub's catch-up holds the lock (PostgreSQL), return None at
    once (its hub will try again); otherwise wait for it, then fold what it left.
    """
    if not _lock(conn, wait):
        return None
    done = 0
    while True:
        rows = conn.execute(_QUEUED, {"limit": CATCH_UP_BATCH}).all()
        if not rows:
            return done
        events = [
            LoggedEvent(seq, type_, at, actor, dossier, task, call, data or {})
            for seq, type_, at, actor, dossier, task, call, data in rows
            if type_ is not None
        ]
        fold_into(conn, events)
        conn.execute(_DEQUEUE, {"seqs": [r[0] for r in rows]})
        done += len(rows)
        if len(rows) < CATCH_UP_BATCH:
            return done


def pending(conn: Connection) -> int:
    """How many events wait to be folded."""
    return conn.execute(select(func.count()).select_from(_PENDING)).scalar_one()


def _lock(conn: Connection, wait: bool) -> bool:
    if conn.dialect.name == "postgresql":
        if wait:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            return True
        got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        return bool(got.scalar())
    # SQLite: a write first, so that the transaction holds the database's write lock
    # before it reads the queue (a reader that writes later may find its snapshot stale).
    conn.execute(delete(_PENDING).where(_PENDING.c.seq < 0))
    return True


def project(session: Session, events: Sequence[EventLike]) -> None:
    """Fold these events (one unit's) into the fact tables, in the session's transaction,
    and take them off the queue: a bare service's projector (tools, tests)."""
    conn = session.connection()  # Core statements: no need of the session's own dispatch
    fold_into(conn, events)
    conn.execute(_DEQUEUE, {"seqs": [e.seq for e in events]})


def fold_into(conn: Connection, events: Sequence[EventLike]) -> None:
    """Fold events into the fact tables: read the facts they touch, write what changed."""
    relevant = sorted((e for e in events if e.type in _TYPES), key=lambda e: e.seq)
    if not relevant:
        return
    facts = FactSet()
    before: dict[str, dict[int, tuple[Any, ...]]] = {}
    born = _born(relevant)
    for name, ids in _keys(relevant).items():
        before[name] = {}
        ids = ids - born.get(name, set())  # a round trip saved on the single writer
        if not ids:
            continue
        cls, _table = FACT_TABLES[name]
        st = _STATEMENTS[name]
        target = getattr(facts, name)
        if len(ids) == 1:
            rows: Iterable[Sequence[Any]] = st.select_one.rows(conn, {"id": next(iter(ids))})
        else:
            rows = conn.execute(st.select, {"ids": sorted(ids)})
        for row in rows:
            fact = target[row[0]] = cls(*row)  # the first field is the id
            before[name][row[0]] = st.values(fact)
    for e in relevant:
        fold(facts, e)
    calls: list[Any] = []  # the call facts that appeared or changed
    placed: dict[int, call_places.CallPlace] = {}  # the calls whose place did
    for name in TABLES:
        st = _STATEMENTS[name]
        new, changed = [], []
        was, appeared, moved = [], [], []  # new facts; changed ones as they were, as they are
        for key, fact in getattr(facts, name).items():
            values = st.values(fact)
            if key not in before[name]:
                new.append(dict(zip(st.names, values, strict=True)))
                appeared.append(fact)
            elif values != before[name][key]:
                update = {f"_{n}": v for n, v in zip(st.names, values, strict=True)}
                update["_pk"] = update.pop(f"_{st.names[0]}")
                changed.append(update)
                was.append(FACT_TABLES[name][0](*before[name][key]))
                moved.append(fact)
        st.insert.many(conn, new)
        st.update.many(conn, changed)
        if name == "calls":
            calls = appeared + moved
        if name == "dossiers" and (appeared or moved):
            dossier_days.apply(conn, was, appeared + moved)
            # A changed dossier moves its call's place only through its commune (its call
            # and opening never change): the others would cost a read for nothing.
            recommuned = [m for w, m in zip(was, moved, strict=True) if w.commune != m.commune]
            if appeared or recommuned:
                placed = call_places.apply(conn, appeared, recommuned)
    call_hours.apply(conn, calls, placed, fresh=born["calls"])


@dataclass(slots=True, frozen=True)
class LoggedEvent:
    """An ``events`` row read back for the rebuild."""

    seq: int
    type: str
    at: datetime
    actor_id: int | None
    dossier_id: int | None
    task_id: int | None
    call_id: int | None
    data: dict[str, Any]


def read_log(conn: Connection, batch: int = 20_000) -> Iterator[LoggedEvent]:
    """The events that change a fact, in ``seq`` order, read in batches.

    On SQLite the driver's rows are read as they are (instants and JSON as text, parsed
    here, faster than the column types' hooks); elsewhere through a server-side cursor.
    """
    q = select(Event.seq, *_FOLDED).where(Event.type.in_(FACT_EVENT_TYPES)).order_by(Event.seq)
    if conn.dialect.name == "sqlite":
        result = conn.execute(q)
        cursor = result.cursor
        assert cursor is not None
        rows: Iterable[Any] = iter(lambda: cursor.fetchmany(batch), [])
        chunks: Iterable[Any] = rows
    else:
        result = conn.execute(q, execution_options={"yield_per": batch})
        chunks = result.partitions()
    for chunk in chunks:
        for seq, type_, at, actor, dossier, task, call, data in chunk:
            yield LoggedEvent(
                seq,
                type_,
                parse_instant(at),  # type: ignore[arg-type]
                actor,
                dossier,
                task,
                call,
                json.loads(data) if isinstance(data, str | bytes) else data or {},
            )
    result.close()


def fold_log(conn: Connection) -> FactSet:
    facts = FactSet()
    for e in read_log(conn):
        fold(facts, e)
    return facts


def rebuild(conn: Connection, chunk: int = 10_000) -> dict[str, int]:
    """Empty the fact tables and fold the whole event log into them again.

    Runs in the caller's transaction (the migration's, or ``engine.begin()``). The events
    it folded are taken off the queue; one committed after it read the log stays queued.
    """
    _lock(conn, True)
    facts = FactSet()
    folded: set[int] = set()
    with gc_paused():
        for e in read_log(conn):
            fold(facts, e)
            folded.add(e.seq)
    queued = sorted(folded.intersection(conn.execute(select(_PENDING.c.seq)).scalars()))
    for i in range(0, len(queued), chunk):
        conn.execute(_DEQUEUE, {"seqs": queued[i : i + chunk]})
    counts = {}
    for name, table in TABLES.items():
        conn.execute(delete(table))
        rows = [_row(f) for f in getattr(facts, name).values()]
        for i in range(0, len(rows), chunk):
            conn.execute(insert(table), rows[i : i + chunk])
        counts[name] = len(rows)
    counts["dossier_days"] = dossier_days.rebuild(conn, facts.dossiers.values())
    places = call_places.count(facts.dossiers.values())
    counts["call_places"] = call_places.rebuild(conn, places)
    counts["call_hours"] = call_hours.rebuild(conn, facts.calls.values(), places)
    return counts
