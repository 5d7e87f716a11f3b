"""The statistics' intents as the desk sends them: the desk's state, the live room, the
monthly report. No database and no hub code: a desk that imports this loads neither."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints

from app.hub.protocol import Intent, IntentName


class DeskState(Intent, name=IntentName.DESK_STATE):
    """The desk is ready, paused, finishing a call (wrap-up) or closing."""

    state: Literal["READY", "PAUSED", "WRAP_UP", "OFFLINE"]


class StatsLive(Intent, name=IntentName.STATS_LIVE):
    read_only: ClassVar[bool] = True  # served by the hub's readers, off the writer


class StatsReport(Intent, name=IntentName.STATS_REPORT):
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]
    read_only: ClassVar[bool] = True


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    DeskState,
    StatsLive,
    StatsReport,
)
