"""The interoperability's intents as the desk sends them: the agenda editors' slots pulled
now, a dossier exported, the Hub Santé journal. No database and no hub code: a desk that
imports this loads neither."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from app.hub.events import EventName
from app.hub.protocol import EntityId, Intent, IntentName, Short


class DirectoryRefresh(Intent, name=IntentName.DIRECTORY_REFRESH):
    """Pull the agenda editors' free slots now (all, or those named)."""

    editors: list[Short] = []


class DossierExport(Intent, name=IntentName.DOSSIER_EXPORT):
    dossier_id: EntityId
    format: Literal["rs-eda", "fhir-appointment"] = "rs-eda"


class HubSanteJournal(Intent, name=IntentName.HUBSANTE_JOURNAL):
    """The messages exchanged with the Hub Santé (refused ones by default)."""

    status: Literal["refused", "invalid", "error", "all"] = "refused"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    DirectoryRefresh,
    DossierExport,
    HubSanteJournal,
)


class RefreshStarted(TypedDict):
    editors: list[str]
    started: bool


class RefreshReply(TypedDict):
    refresh: RefreshStarted


class ExportReply(TypedDict):
    export: dict[str, object]  # the RS-EDA or FHIR document
    format: str
    filename: str


class JournalRow(TypedDict):
    id: int
    direction: str
    distribution_id: str
    kind: str
    content: str
    sender: str
    recipient: str
    case_id: str | None
    dossier_id: int | None
    status: str
    error: str | None
    at: str
    body: object  # the message as exchanged: JSON, or its text


class HubSanteJournalReply(TypedDict):
    messages: list[JournalRow]


class RefreshFailed(TypedDict):
    """``directory.refresh_failed``: an editor's agenda refresh that failed, its report."""

    editor: str
    status: str
    error: str | None
    pages: int
    seconds: float
    accepted: int
    created: int
    updated: int
    rejected: list[dict[str, str]]
    warnings: list[dict[str, str]]
    withdrawn: int


class HubSanteRefused(TypedDict):
    distribution_id: str
    sender: str
    cause: str


REPLIES: dict[IntentName, type] = {
    IntentName.DIRECTORY_REFRESH: RefreshReply,
    IntentName.DOSSIER_EXPORT: ExportReply,
    IntentName.HUBSANTE_JOURNAL: HubSanteJournalReply,
}
EVENTS: dict[EventName, type] = {
    EventName.DIRECTORY_REFRESH_FAILED: RefreshFailed,
    EventName.HUBSANTE_REFUSED: HubSanteRefused,
    EventName.HUBSANTE_ERROR: HubSanteRefused,
}
