"""Supervision intents on the hub, and the statistics facts kept up to date.

Installed by ``app.hub.extensions``. ``desk.state`` is an event like any other (the
supervisor's live view and the statistics read it from the log); ``stats.live``
gives a supervisor's desk what the login snapshot lacks: the desks' states and the
sequence number from which to apply events.

On a running hub the facts are folded about once a second on the writer, the queued
events of that second together (app.stats.projection.catch_up), not inside each
intent's transaction; a report folds what is left before it counts. A bare service
(tools, tests) folds each unit's events in the unit, as the hub once did.
"""

from __future__ import annotations

import asyncio
import logging
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
#: How often a running hub folds the events committed since it last did (seconds).
CATCH_UP_SECONDS = 1.0

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

    ``deferred`` (a running hub): the facts are folded by :meth:`start`'s task, about
    once a second, from the queue the events' trigger fills; otherwise (a bare service)
    in each unit's transaction.
    """

    name = "app.stats"
    protocol: tuple[type[Intent], ...] = (
        DeskState,
        StatsLive,
    )

    def __init__(self, deferred: bool = True, every: float = CATCH_UP_SECONDS):
        self.deferred = deferred
        self.every = every
        #: Events the facts count were written since the last catch-up (set on the
        #: writer, read on the loop: a flag, never a count).
        self.due = False
        self._task: asyncio.Task[None] | None = None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {DeskState: desk_state, StatsLive: stats_live}

    def projectors(self) -> Sequence[Projector]:
        return (self.note,) if self.deferred else (project,)

    def note(self, _session: object, events: Sequence[WrittenEvent]) -> None:
        """In a unit's transaction: only remember that a catch-up is due (no statement)."""
        if not self.due and any(e.type in _FACT_TYPES for e in events):
            self.due = True

    def catch_up_now(self, service: HubService, wait: bool = False) -> int | None:
        """On the writer: fold the queued events in a transaction of their own; None if
        another hub's catch-up held the lock (it is tried again on the next tick)."""
        with service.sessions.begin() as s:
            return catch_up(s.connection(), wait=wait)

    async def start(self, ctx: HubContext) -> None:
        if self.deferred and self._task is None:
            self.due = True  # what a previous run left queued
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
            await asyncio.sleep(self.every)
            if not self.due:
                continue
            self.due = False
            try:
                folded = await ctx.run_in_writer(self.catch_up_now, ctx.service)
            except Exception:
                # The events stay queued; a report folds them first, the next tick too.
                log.exception("statistiques : rattrapage en échec, nouvel essai")
                folded = None
            if folded is None:
                self.due = True


def install(service: HubService) -> StatsExtension:
    """The statistics on a bare service (tools and tests): folded in each unit."""
    return install_one(service, StatsExtension(deferred=False))
