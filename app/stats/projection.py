"""The fact tables kept in step with the log: projected per unit of work, or rebuilt.

``project`` is a ``HubService`` projector: inside the unit's transaction it reads the
few facts the unit's events touch, folds the events into them (``app.stats.fold``) and
writes back what changed, so the facts commit (or roll back) with their events.
``rebuild`` empties the tables and folds the whole log through the same ``fold``
(migration 0004's backfill, ``sasdesk stats rebuild``, the benchmark).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from app.db.fast import Fast
from app.db.models import Event
from app.hub.events import EventName
from app.stats import call_hours, call_places, dossier_days
from app.stats.facts import FACT_TABLES, FactSet, gc_paused, parse_instant
from app.stats.fold import FACT_EVENT_TYPES, EventLike, fold

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


def project(session: Session, events: Sequence[EventLike]) -> None:
    """Fold one unit's events into the fact tables, in its transaction."""
    relevant = sorted((e for e in events if e.type in _TYPES), key=lambda e: e.seq)
    if not relevant:
        return
    conn = session.connection()  # Core statements: no need of the session's own dispatch
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
    q = (
        select(
            Event.seq,
            Event.type,
            Event.at,
            Event.actor_id,
            Event.dossier_id,
            Event.task_id,
            Event.call_id,
            Event.data,
        )
        .where(Event.type.in_(FACT_EVENT_TYPES))
        .order_by(Event.seq)
    )
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

    Runs in the caller's transaction (the migration's, or ``engine.begin()``)."""
    with gc_paused():
        facts = fold_log(conn)
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
