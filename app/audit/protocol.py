"""The read audit's intent as the desk sends it (who read which dossier). No database and
no hub code: a desk that imports this loads neither."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints
from typing_extensions import TypedDict

from app.hub.events import EventName
from app.hub.protocol import EntityId, Intent, IntentName


class AuditList(Intent, name=IntentName.AUDIT_LIST):
    """Who read dossiers: filter by dossier (id or number), user, period; newest first."""

    dossier: Annotated[str, StringConstraints(max_length=32, strip_whitespace=True)] = ""
    username: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    refused_only: bool = False
    before_id: EntityId | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200
    read_only: ClassVar[bool] = True


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (AuditList,)


class ReadRow(TypedDict):
    """One read of a dossier's content, granted or refused (app.audit.query)."""

    id: int
    at: str
    username: str
    role: str
    desk: str
    dossier_id: int | None
    dossier_number: str | None
    intent: str
    label: str
    granted: bool
    detail: str


class AuditReply(TypedDict):
    reads: list[ReadRow]
    more: bool


REPLIES: dict[IntentName, type] = {IntentName.AUDIT_LIST: AuditReply}
#: No event of its own.
EVENTS: dict[EventName, type] = {}
