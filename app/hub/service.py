"""The kernel's unit of work: one intent, one transaction, and who must know.

A feature registers a handler per intent (app.hub.extensions); the service runs it in
a :class:`Unit` (the session, the actor, the events it appends), projects and announces
the events inside the transaction, and commits both or neither. It runs on the hub's
single writer thread, so two intents never interleave. The regulation flow itself is a
feature (app.flow).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import HubSettings
from app.db.fast import Fast
from app.db.models import Call, Dossier, Event, OsnpTask, User
from app.db.types import utcnow
from app.domain.rules import FlowError
from app.hub import protocol as p
from app.hub.auth import Principal
from app.hub.events import EventName, event_message
from app.hub.flush import flush_changes, write_rows
from app.hub.payloads import Snapshot, SnapshotItems, UserView
from app.hub.read_audit import ReadRefused, record_read
from app.hub.views import (
    UserLookup,
    call_view,
    dossier_view,
    iso,
    task_view,
    user_view,
)
from app.hub.visibility import Audience

Clock = Callable[[], datetime]
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Outgoing:
    """An event as broadcast, with the audience allowed to receive it."""

    message: dict[str, Any]
    audience: Audience
    #: The message's JSON, encoded once for the NOTIFY and every desk's frame.
    text: str | None = field(default=None, compare=False, repr=False)

    def encoded(self) -> str:
        """The message as JSON text (encoded on first use: the message is final then)."""
        if self.text is None:
            self.text = json.dumps(self.message)
        return self.text


@dataclass
class Outcome:
    reply: dict[str, Any]
    events: list[Outgoing] = field(default_factory=list)
    principal: Principal | None = None  # set by login/resume
    token: str | None = None


@dataclass(slots=True)
class WrittenEvent:
    """An ``events`` row a unit of work writes: its columns, its ``seq`` once inserted.

    Not an ORM object: the log is append-only, so the unit inserts its events itself, in
    one Core statement, instead of paying the ORM's flush for each (a third of the
    writer's time when they were ORM objects). Projectors receive these.
    """

    type: str
    at: datetime
    actor_id: int | None
    dossier_id: int | None
    task_id: int | None
    call_id: int | None
    data: dict[str, Any]
    seq: int = 0


Notifier = Callable[[Session, list["Outgoing"]], None]
Projector = Callable[[Session, list[WrittenEvent]], None]

_EVENTS: Any = Event.__table__
_EVENT_KEYS = ("at", "type", "actor_id", "dossier_id", "task_id", "call_id", "data")
_INSERT_EVENT = Fast(insert(_EVENTS).returning(_EVENTS.c.seq), _EVENT_KEYS)


@functools.cache
def _insert_events(count: int) -> Fast:
    """Several events in one ``INSERT … VALUES (…), (…) RETURNING seq`` on the driver's
    cursor (SQLAlchemy's own "insertmanyvalues" execution cost the writer more than the
    statement). The rows are inserted in the order of the VALUES list, each drawing its
    ``seq`` as it is: the ascending ``seq`` are the events' in the order they were emitted,
    whatever the order RETURNING gives them back in."""
    rows = [
        {k: bindparam(f"{k}_{n}", type_=_EVENTS.c[k].type) for k in _EVENT_KEYS}
        for n in range(count)
    ]
    return Fast(insert(_EVENTS).values(rows).returning(_EVENTS.c.seq))


#: A feature's part of the login snapshot: what this user may see of it now.
SnapshotPart = Callable[[Session, Principal, datetime], SnapshotItems]


class Unit:
    """One intent's unit of work: the session, the actor and the events it produces."""

    def __init__(
        self,
        session: Session,
        actor: Principal | None,
        now: datetime,
        users: UserLookup,
        pending: list[WrittenEvent] | None = None,
    ):
        self.s = session
        self.users = users
        self.actor = actor
        self.now = now
        self.events: list[tuple[WrittenEvent, Audience, dict[str, Any]]] = []
        #: Emitted, not yet inserted: this unit's events, or (group commit) those of every
        #: unit of its batch, inserted together in one statement once all have run.
        self.pending: list[WrittenEvent] = [] if pending is None else pending
        #: Messages built before their event's seq was known (:meth:`stamp`).
        self._unstamped: list[tuple[WrittenEvent, dict[str, Any]]] = []
        #: Rows read or inserted with Core (app.hub.flush.Row): written by :meth:`flush`.
        self.rows: list[Any] = []
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The session's connection, for the unit's Core statements (app.db.fast): the
        same for the whole transaction, so asked of the session once (each time cost
        its transaction's bookkeeping, several times per intent on the writer)."""
        if self._conn is None:
            self._conn = self.s.connection()
        return self._conn

    def track(self, row: R) -> R:
        """A Core row (app.hub.flush.Row) this unit may change: written with its changes."""
        self.rows.append(row)
        return row

    def flush(self) -> None:
        """Write what the unit changed so far: its ORM objects, then its Core rows."""
        flush_changes(self.s)
        if self.rows:
            write_rows(self.s, self.rows, self.conn)

    def emit(
        self,
        type_: EventName,
        audience: Audience,
        *,
        dossier: Dossier | None = None,
        task: OsnpTask | None = None,
        call: Call | None = None,
        **data: Any,
    ) -> None:
        event = WrittenEvent(
            type_,
            self.now,
            self.actor.user_id if self.actor else None,
            dossier.id if dossier else None,
            task.id if task else None,
            call.id if call else None,
            data,
        )
        views: dict[str, Any] = {}
        if dossier is not None:
            views["dossier"] = dossier
        if task is not None:
            views["task"] = task
        if call is not None:
            views["call"] = call
        self.events.append((event, audience, views))
        self.pending.append(event)

    def write_events(self) -> None:
        """Insert the events not yet written, in order, and learn their seq.

        A handler that reads the log calls it first: in a batch, the events of the
        intents before it are then in the log, as if each had committed alone.
        """
        self.flush()  # the rows they name are written first
        fresh = self.pending[:]
        if not fresh:
            return
        del self.pending[:]
        rows = [
            {
                "at": e.at,
                "type": e.type,
                "actor_id": e.actor_id,
                "dossier_id": e.dossier_id,
                "task_id": e.task_id,
                "call_id": e.call_id,
                "data": e.data,
            }
            for e in fresh
        ]
        if len(rows) == 1:
            inserted = _INSERT_EVENT.first(self.conn, rows[0])
            assert inserted is not None
            fresh[0].seq = inserted[0]
            return
        values = {f"{k}_{n}": v for n, row in enumerate(rows) for k, v in row.items()}
        seqs = sorted(r[0] for r in _insert_events(len(rows)).rows(self.conn, values))
        for event, seq in zip(fresh, seqs, strict=True):
            event.seq = seq

    def outgoing(self, *, defer: bool = False) -> list[Outgoing]:
        """The unit's events as broadcast. ``defer`` (group commit): the messages are built
        now, as the rows stand after this intent, and their events inserted with the
        rest of the batch's (:meth:`write_events`), their seq set by :meth:`stamp`."""
        if defer:
            self.flush()  # the next intent of the batch reads these rows
        else:
            self.write_events()
        out = []
        for event, audience, views in self.events:
            msg = event_message(
                event.seq,
                event.type,
                event.at,
                self.actor.name if self.actor else None,
                event.data,
                dossier=dossier_view(views["dossier"], self.users) if "dossier" in views else None,
                task=task_view(views["task"], self.users) if "task" in views else None,
                call=call_view(views["call"]) if "call" in views else None,
            )
            if not event.seq:
                self._unstamped.append((event, msg))
            out.append(Outgoing(msg, audience))
        return out

    def stamp(self) -> None:
        """Set the seq of the messages built before their events were inserted."""
        for event, msg in self._unstamped:
            msg["seq"] = event.seq
        self._unstamped.clear()


class _CommitFailed(Exception):
    """A batch's COMMIT failed: whether it took effect is unknown."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _ok(intent: p.Intent, **payload: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {"type": "ok"}
    if intent.id is not None:
        reply["re"] = intent.id
    reply.update(payload)
    return reply


class HubService:
    """The kernel: runs each intent's handler in its unit of work (alone or grouped)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock = utcnow,
        settings: HubSettings | None = None,
    ):
        self.sessions = sessions
        self.clock = clock
        #: The room's configuration; extensions read their section from here at install.
        self.settings = settings or HubSettings()
        self._user_views: dict[int, UserView | None] = {}
        #: Called inside each transaction with its events (PostgreSQL NOTIFY, so that
        #: the other hubs sharing the database hear of them when, and only if, it commits).
        self.notifier: Notifier | None = None
        #: Called inside each transaction with the events it wrote (e.g. statistics facts
        #: kept up to date); an exception rolls the whole unit back.
        self.projectors: list[Projector] = []
        #: The features' parts of the login snapshot (app.hub.extensions).
        self.snapshot_parts: list[SnapshotPart] = []
        #: Sends messages to the desks at once, from any thread and outside any
        #: transaction (the progress of a long intent); set by the hub that serves desks.
        self.live: Callable[[list[Outgoing]], None] | None = None
        self._handlers: dict[type[p.Intent], Callable[[Unit, Any], Mapping[str, Any]]] = {}
        #: Intents that only write rows, which group commit may apply together.
        self._batchable: set[type[p.Intent]] = set()

    def finish(self, unit: Unit) -> list[Outgoing]:
        """End a unit of work inside its transaction: events written, projected, announced.

        Every path that writes events (intents, the reminders' scheduler) ends here, so
        projections (statistics facts) and other hubs see exactly what was committed.
        """
        events = unit.outgoing()
        self._project_and_notify(unit.s, [unit], events)
        return events

    def run_unit(self, work: Callable[[Unit], T]) -> tuple[T, list[Outgoing]]:
        """The hub's own work, not a desk's intent (a reminder due, a directory pull, a
        lock): one transaction, no actor, ended by :meth:`finish` as an intent is. What
        ``work`` returned and the events to broadcast once it committed."""
        with self.sessions.begin() as s:
            unit = Unit(s, None, self.clock(), self.user)
            result = work(unit)
            return result, self.finish(unit)

    def _project_and_notify(self, s: Session, units: list[Unit], events: list[Outgoing]) -> None:
        written = [event for unit in units for event, _audience, _views in unit.events]
        if written:
            for projector in self.projectors:
                projector(s, written)
        if self.notifier is not None and events:
            self.notifier(s, events)

    def register(
        self,
        intent: type[p.Intent],
        handler: Callable[[Unit, Any], Mapping[str, Any]],
        *,
        batchable: bool = False,
    ) -> None:
        """Let an extension (the flow, directory, call-back…) handle its own intents.

        ``batchable``: the handler only writes rows in its unit, so group commit may
        apply it with others in one transaction.
        """
        if intent in self._handlers:
            raise ValueError(f"{intent.__name__} already has a handler")
        self._handlers[intent] = handler
        if batchable:
            self._batchable.add(intent)

    def user(self, user_id: int | None) -> UserView | None:
        """The wire view of a user, cached: accounts change rarely, names are read often."""
        if user_id is None:
            return None
        if user_id not in self._user_views:
            with self.sessions() as s:
                self._user_views[user_id] = user_view(s.get(User, user_id))
        return self._user_views[user_id]

    # -- entry points -------------------------------------------------------------

    def event_message(self, seq: int) -> dict[str, Any] | None:
        """An event as broadcast, rebuilt from the log (for another hub's desks)."""
        with self.sessions() as s:
            event = s.get(Event, seq)
            if event is None:
                return None
            actor = self.user(event.actor_id)
            dossier = s.get(Dossier, event.dossier_id) if event.dossier_id is not None else None
            task = s.get(OsnpTask, event.task_id) if event.task_id is not None else None
            call = s.get(Call, event.call_id) if event.call_id is not None else None
            return event_message(
                event.seq,
                event.type,
                event.at,
                actor["name"] if actor else None,
                event.data,
                dossier=dossier_view(dossier, self.user) if dossier is not None else None,
                task=task_view(task, self.user) if task is not None else None,
                call=call_view(call) if call is not None else None,
            )

    def handles(self, intent: type[p.Intent]) -> bool:
        return intent in self._handlers

    def handle(self, actor: Principal, intent: p.Intent) -> Outcome:
        handler = self._handlers.get(type(intent))
        if handler is None:  # install_all refuses to start so; a service built by hand may
            raise FlowError(
                "unknown_type", f"aucun module du hub ne traite « {p.intent_name(type(intent))} »"
            )
        for attempt in (1, 2):
            try:
                with self.sessions.begin() as s:
                    unit = Unit(s, actor, self.clock(), self.user)
                    reply = handler(unit, intent)
                    return Outcome(_ok(intent, **reply), self.finish(unit))
            except IntegrityError:
                # Another hub inserted the same row first (a call forked to desks on two
                # hubs): the second attempt sees it and takes the normal path.
                if attempt == 2:
                    raise
            except ReadRefused as refusal:
                # The refused unit rolled back; the refusal itself is kept.
                self.record_refusal(actor, refusal)
                raise
        raise AssertionError("unreachable")

    def handle_batch(self, items: list[tuple[Principal, p.Intent]]) -> list[Outcome | Exception]:
        """Several intents in one transaction, in order (app.hub.group_commit).

        The result is the one of applying them one by one: if any intent fails, the
        whole transaction is rolled back and each is applied again alone, through
        :meth:`handle` (its refusal, retry and audit as usual). Only intents registered
        as batchable are grouped: another handler may do more than write rows.
        """
        if len(items) > 1 and all(type(intent) in self._batchable for _, intent in items):
            try:
                return list(self._apply_together(items))
            except _CommitFailed as failed:
                # Whether it committed is unknown: applying again could apply twice. The
                # desks are told it failed, as a single intent's would be.
                return [failed.error] * len(items)
            except Exception:
                pass  # rolled back, nothing of the batch was kept: each again, alone
        results: list[Outcome | Exception] = []
        for actor, intent in items:
            try:
                results.append(self.handle(actor, intent))
            except Exception as exc:
                results.append(exc)
        return results

    def _apply_together(self, items: list[tuple[Principal, p.Intent]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        applied = False
        try:
            with self.sessions.begin() as s:
                units = []
                pending: list[WrittenEvent] = []  # the batch's events, inserted at once
                for actor, intent in items:
                    unit = Unit(s, actor, self.clock(), self.user, pending)
                    reply = self._handlers[type(intent)](unit, intent)
                    # Built now: a later intent of the batch may change the same dossier.
                    outcomes.append(Outcome(_ok(intent, **reply), unit.outgoing(defer=True)))
                    units.append(unit)
                units[-1].write_events()
                for unit in units:
                    unit.stamp()
                self._project_and_notify(s, units, [out for o in outcomes for out in o.events])
                applied = True
        except Exception as exc:
            if applied:  # COMMIT itself failed
                raise _CommitFailed(exc) from exc
            raise
        return outcomes

    def record_refusal(self, actor: Principal, refusal: ReadRefused) -> None:
        """Audit a refused read in a transaction of its own."""
        with self.sessions.begin() as s:
            record_read(
                s,
                actor,
                actor.desk,
                refusal.dossier_id,
                refusal.intent,
                granted=False,
                detail=refusal.code,
                at=self.clock(),
            )

    def snapshot(self, actor: Principal) -> Snapshot:
        """Everything this user may see now: sent on login and on every reconnect. The
        features add their parts (the flow: dossiers, tasks, calls)."""
        now = self.clock()
        out: Snapshot = {
            "type": "snapshot",
            "at": iso(now),
            "user": {
                "id": actor.user_id,
                "username": actor.username,
                "name": actor.name,
                "role": str(actor.role),
                "national_id": actor.national_id,
                "platform_id": actor.platform_id,
            },
            "dossiers": [],
            "tasks": [],
            "calls": [],
        }
        with self.sessions() as s:
            for part in self.snapshot_parts:
                out.update(part(s, actor, now))
        return out
