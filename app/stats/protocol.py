"""The statistics' intents as the desk sends them: the desk's state, the live room, the
monthly report. No database and no hub code: a desk that imports this loads neither."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints
from typing_extensions import TypedDict

from app.hub.events import EventName
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


class DeskStateData(TypedDict):
    """``desk.state`` (to the supervisors), and its reply's ``desk``."""

    user_id: int
    name: str
    role: str
    state: str


class DeskStateReply(TypedDict):
    desk: DeskStateData


class LiveDesk(DeskStateData):
    since: str | None


class LiveReply(TypedDict):
    seq: int
    desks: list[LiveDesk]


#: A report table's cell as sent: dates as ISO text, other objects as their text.
Cell = str | int | float | bool | None


class ReportTable(TypedDict):
    """One table of the monthly report (app.stats.report_intent.table_view)."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    groups: list[str] | None
    emphasis: list[str]  # per row: "", "week", "month"
    note: str


class Report(TypedDict):
    month: str
    summary: list[str]
    tables: list[ReportTable]


class ReportReply(TypedDict):
    report: Report


REPLIES: dict[IntentName, type] = {
    IntentName.DESK_STATE: DeskStateReply,
    IntentName.STATS_LIVE: LiveReply,
    IntentName.STATS_REPORT: ReportReply,
}
EVENTS: dict[EventName, type] = {EventName.DESK_STATE: DeskStateData}
