"""The history's intents as the desk sends them: a caller's former dossiers, the dossier
search, the link between two dossiers of one patient. No database and no hub code: a desk
that imports this loads neither."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints
from typing_extensions import TypedDict

from app.hub.events import EventName
from app.hub.protocol import EntityId, Intent, IntentName, Phone

#: Rows a search or a history list returns at most (newest first).
MAX_ROWS = 50


Name = Annotated[str, StringConstraints(max_length=128, strip_whitespace=True)]


class HistoryCaller(Intent, name=IntentName.HISTORY_CALLER):
    """The dossiers of this caller's number in the last days (``[anteriorites] jours``):
    their count, and the newest ``limit`` of them (1 on ring, the list on demand)."""

    number: Annotated[str, StringConstraints(min_length=1, max_length=32,
                                             pattern=r"^[0-9+ .()-]*$")]  # fmt: skip
    limit: Annotated[int, Field(ge=0, le=MAX_ROWS)] = 1
    read_only: ClassVar[bool] = True  # writes nothing but its audit rows


class DossierSearch(Intent, name=IntentName.DOSSIER_SEARCH):
    """Dossiers by caller number, patient name, DRM number and period, newest first."""

    phone: Phone = ""
    name: Name = ""
    number: Annotated[str, StringConstraints(max_length=32, strip_whitespace=True)] = ""
    since: date | None = None
    until: date | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] = MAX_ROWS
    read_only: ClassVar[bool] = True


class DossierLinkIntent(Intent, name=IntentName.DOSSIER_LINK):
    """The dossier one holds concerns the patient of ``same_patient_as``: the link is kept
    and the patient's identity fills the fields still empty."""

    dossier_id: EntityId
    same_patient_as: EntityId


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    HistoryCaller,
    DossierSearch,
    DossierLinkIntent,
)


class DossierSummary(TypedDict):
    """An earlier dossier as a list shows it (app.history.query.summary_view)."""

    id: int
    number: str
    answered_at: str | None
    caller_number: str
    status: str
    priority: str | None
    decision: str | None
    patient_last_name: str
    patient_first_name: str
    patient_birth_date: str | None
    patient_age: int | None
    commune_name: str
    motif: str
    same_patient_as: int | None


class CallerReply(TypedDict):
    number: str
    days: int
    count: int
    frequent: bool
    frequent_after: int
    dossiers: list[DossierSummary]


class SearchReply(TypedDict):
    dossiers: list[DossierSummary]
    more: bool


class LinkReply(TypedDict):
    dossier_id: int
    same_patient_as: int
    fields: dict[str, object]  # the identity fields copied, with their value


REPLIES: dict[IntentName, type] = {
    IntentName.HISTORY_CALLER: CallerReply,
    IntentName.DOSSIER_SEARCH: SearchReply,
    IntentName.DOSSIER_LINK: LinkReply,
}
#: No event of its own.
EVENTS: dict[EventName, type] = {}
