"""Supervision intents on the hub, and the statistics facts kept up to date.

Installed by ``app.hub.extensions``. ``desk.state`` is an event like any other (the
supervisor's live view and the statistics read it from the log); ``stats.live``
gives a supervisor's desk what the login snapshot lacks: the desks' states and the
sequence number from which to apply events.

On a running hub the facts are folded on the writer in batches (app.stats.projection.
catch_up), not inside each intent's transaction: once this hub has written
``CATCH_UP_EVENTS`` events that count, or ``CATCH_UP_WITHIN`` seconds after the first
of them, whichever comes first; a report folds what is left before it counts. A bare
service (tools, tests) folds each unit's events in the unit, as the hub once did.

Why both bounds: a catch-up costs a dozen round trips whatever it folds (two hubs
folding every second spent 8 % of their CPU on it, py-spy on ``sasdesk bench flow``).
Folded every second, the few events of a quiet room would each pay more than they did
in their unit; folded only by count, the facts of a quiet room would lag
behind for hours (a report would fold them, but the whole backlog at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import func, select

from app.db.models import Call, Event, User
from app.domain.permissions import Action, require
from app.hub.context import HubContext
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler, Projector, install_one
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit, WrittenEvent
from app.hub.views import iso
from app.hub.visibility import Audience
from app.stats.fold import FACT_EVENT_TYPES
from app.stats.projection import catch_up, project
from app.stats.protocol import (
    DeskState,
    DeskStateData,
    DeskStateReply,
    LiveDesk,
    LiveReply,
    StatsLive,
)

#: A desk's last state older than this is not shown (the desk is gone).
DESK_MEMORY = timedelta(hours=24)
#: A running hub folds the queue once it has written this many events that count…
CATCH_UP_EVENTS = 32
#: …or this many seconds after the first of them, whichever comes first.
CATCH_UP_WITHIN = 30.0
#: How often the hub looks (seconds).
CATCH_UP_TICK = 1.0

log = logging.getLogger(__name__)
_FACT_TYPES = frozenset(FACT_EVENT_TYPES)


def desk_state(u: Unit, i: DeskState) -> DeskStateReply:
    assert u.actor is not None
    data: DeskStateData = {
        "user_id": u.actor.user_id,
        "name": u.actor.name,
        "role": str(u.actor.role),
        "state": i.state,
    }
    u.emit(EventName.DESK_STATE, Audience(), **data)  # supervisors
    return {"desk": data}


def stats_live(u: Unit, i: StatsLive) -> LiveReply:
    assert u.actor is not None
    require(u.actor.role, Action.SUPERVISE)
    since = u.now - DESK_MEMORY
    last = (
        select(func.max(Event.seq))
        .where(Event.type == EventName.DESK_STATE, Event.at >= since)
        .group_by(Event.actor_id)
    )
    desks: dict[int, LiveDesk] = {}
    for at, data in u.s.execute(select(Event.at, Event.data).where(Event.seq.in_(last))):
        desks[data["user_id"]] = {
            "user_id": data["user_id"],
            "name": data.get("name", ""),
            "role": data.get("role", ""),
            "state": data["state"],
            "since": iso(at),
        }
    in_call = u.s.execute(
        select(Call.answered_by_id, Call.answered_at, User.display_name, User.role)
        .join(User, User.id == Call.answered_by_id)
        .where(Call.ended_at.is_(None), Call.answered_at.is_not(None))
    )
    for uid, answered, name, role in in_call:
        if uid is not None:
            desks[uid] = {
                "user_id": uid,
                "name": name,
                "role": role,
                "state": "IN_CALL",
                "since": iso(answered),
            }
    seq = u.s.scalar(select(func.max(Event.seq))) or 0
    return {"seq": seq, "desks": sorted(desks.values(), key=lambda d: d["name"])}


class StatsExtension(Extension):
    """The desks' live board and the statistics facts kept up to date.

    ``deferred`` (a running hub): the facts are folded by :meth:`start`'s task, in
    batches (``events`` written, or ``within`` seconds after the first), from the queue
    the events' trigger fills; otherwise (a bare service) in each unit's transaction.
    """

    name = "app.stats"
    protocol: tuple[type[Intent], ...] = (
        DeskState,
        StatsLive,
    )

    def __init__(
        self,
        deferred: bool = True,
        *,
        events: int = CATCH_UP_EVENTS,
        within: float = CATCH_UP_WITHIN,
        tick: float = CATCH_UP_TICK,
    ):
        self.deferred = deferred
        self.events, self.within, self.tick = events, within, tick
        #: Events that count written by this hub since its last catch-up: added and
        #: reset on the writer (:meth:`note`, :meth:`catch_up_now`), read on the loop.
        self.noted = 0
        #: When the first of them was noted (``time.monotonic``), None if none.
        self.since: float | None = None
        self._task: asyncio.Task[None] | None = None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {DeskState: desk_state, StatsLive: stats_live}

    def projectors(self) -> Sequence[Projector]:
        return (self.note,) if self.deferred else (project,)

    @property
    def due(self) -> bool:
        """A catch-up is due: enough events, or the first waited long enough."""
        if self.since is None:
            return False
        return self.noted >= self.events or time.monotonic() - self.since >= self.within

    def note(self, _session: object, events: Sequence[WrittenEvent]) -> None:
        """In a unit's transaction: only count the events that change a fact (no
        statement; a unit rolled back after this only brings a catch-up forward)."""
        counted = sum(1 for e in events if e.type in _FACT_TYPES)
        if counted:
            self.noted += counted
            if self.since is None:
                self.since = time.monotonic()

    def catch_up_now(self, service: HubService, wait: bool = False) -> int | None:
        """On the writer: fold the queued events in a transaction of their own; None if
        another hub's catch-up held the lock (due again at the next tick).

        The count restarts here, on the writer, between two units: every event noted so
        far has committed and is in the queue this catch-up reads."""
        noted, since = self.noted, self.since
        self.noted, self.since = 0, None
        folded: int | None = None
        try:
            with service.sessions.begin() as s:
                folded = catch_up(s.connection(), wait=wait)
        finally:
            if folded is None and since is not None:  # not done: due again
                self.noted += noted
                self.since = min(since, self.since or since)
        return folded

    async def start(self, ctx: HubContext) -> None:
        if self.deferred and self._task is None:
            self.since = time.monotonic()  # what a previous run left queued, in a while
            self._task = asyncio.create_task(self._catching_up(ctx))

    async def stop(self, ctx: HubContext) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None
        try:  # leave nothing queued behind a clean stop
            await ctx.run_in_writer(self.catch_up_now, ctx.service, True)
        except Exception:
            log.exception("statistiques : dernier rattrapage impossible à l'arrêt")

    async def _catching_up(self, ctx: HubContext) -> None:
        while True:
            await asyncio.sleep(self.tick)
            if not self.due:
                continue
            try:
                await ctx.run_in_writer(self.catch_up_now, ctx.service)
            except Exception:
                # The events stay queued; a report folds them first, the next tick too.
                log.exception("statistiques : rattrapage en échec, nouvel essai")


def install(service: HubService) -> StatsExtension:
    """The statistics on a bare service (tools and tests): folded in each unit."""
    return install_one(service, StatsExtension(deferred=False))
