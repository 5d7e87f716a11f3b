"""Supervision intents on the hub: desks say their state; supervisors read the room.

Installed by ``app.hub.extensions``. ``desk.state`` is an event like any other (the
supervisor's live view and the statistics read it from the log); ``stats.live``
gives a supervisor's desk what the login snapshot lacks: the desks' states and the
sequence number from which to apply events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import func, select

from app.db.models import Call, Event, User
from app.domain.permissions import Action, require
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler, Projector, install_one
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit
from app.hub.views import iso
from app.hub.visibility import Audience
from app.stats.projection import project
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
    """The desks' live board and the statistics facts kept up to date."""

    name = "app.stats"
    protocol: tuple[type[Intent], ...] = (
        DeskState,
        StatsLive,
    )

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {DeskState: desk_state, StatsLive: stats_live}

    def projectors(self) -> Sequence[Projector]:
        return (project,)  # statistics facts, in each unit's transaction


def install(service: HubService) -> StatsExtension:
    """The statistics on a bare service (tools and tests)."""
    return install_one(service, StatsExtension())
