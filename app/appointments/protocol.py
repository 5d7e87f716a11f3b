"""The appointments' intents as the desk sends them: no database, no hub code, so a desk
that imports this module loads neither."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field
from typing_extensions import TypedDict

from app.hub.events import EventName
from app.hub.protocol import EntityId, Intent, IntentName


class AppointmentPlatformSearch(Intent, name=IntentName.APPOINTMENT_PLATFORM_SEARCH):
    """The platform search address for ``dossier_id`` (whoever may see the dossier)."""

    dossier_id: EntityId
    read_only: ClassVar[bool] = True  # writes nothing but its audit row


class AppointmentBoard(Intent, name=IntentName.APPOINTMENT_BOARD):
    """The appointments received that belong to no dossier yet (the board's dock)."""

    limit: Annotated[int, Field(ge=1, le=500)] = 200
    read_only: ClassVar[bool] = True


class AppointmentAttach(Intent, name=IntentName.APPOINTMENT_ATTACH):
    """Attach a received appointment to a dossier (from the board, without retyping)."""

    appointment_id: EntityId
    dossier_id: EntityId


class AppointmentJournal(Intent, name=IntentName.APPOINTMENT_JOURNAL):
    """The editors' messages, newest first (refused ones by default): supervisor only."""

    outcome: Literal["refused", "all"] = "refused"
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    read_only: ClassVar[bool] = True


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    AppointmentPlatformSearch,
    AppointmentBoard,
    AppointmentAttach,
    AppointmentJournal,
)


# What the hub answers and broadcasts about the editors' appointments (app.appointments:
# views, board, hub_sink); the board applies the events' payloads, never asks again.


class EffecteurRef(TypedDict):
    id: int | None
    national_id: str
    name: str


class OrganizationRef(TypedDict):
    id: str
    name: str


class AccountRef(TypedDict):
    id: int
    username: str
    name: str


class RegulatorRef(TypedDict):
    id: str
    national: bool
    name: str
    user: AccountRef | None


class ReceivedAppointment(TypedDict):
    """An appointment an agenda editor sent (``appointment.received``/``updated``)."""

    id: int
    source: str
    sender: str
    identifier_system: str
    identifier: str
    status: str
    start: str
    end: str
    end_known: bool
    effecteur: EffecteurRef
    organization: OrganizationRef | None
    orientation_category: str
    booked_at: str | None
    regulator: RegulatorRef
    version: int


class BoardAppointment(ReceivedAppointment):
    """On the board, and in ``appointment.attached``: with its structure and dossier."""

    structure: str
    dossier_id: int | None


class JournalMessage(TypedDict):
    id: int
    at: str
    source: str
    sender: str
    identifier: str
    answer: int  # the HTTP status answered to the editor
    outcome: str
    issues: list[dict[str, object]]  # FHIR OperationOutcome issues, as received
    appointment_id: int | None
    detail: str


class PlatformSearchReply(TypedDict):
    url: str
    notes: list[str]
    dossier_id: int


class BoardReply(TypedDict):
    appointments: list[BoardAppointment]


class AttachReply(TypedDict):
    appointment: BoardAppointment


class JournalReply(TypedDict):
    messages: list[JournalMessage]


class AppointmentChange(TypedDict):
    appointment: ReceivedAppointment
    previous_status: str | None


class AppointmentAttached(TypedDict):
    appointment: BoardAppointment
    automatic: bool


class AppointmentRefused(TypedDict):
    sender: str
    identifier: str
    answer: int  # the HTTP status answered to the editor
    issues: list[dict[str, object]]


REPLIES: dict[IntentName, type] = {
    IntentName.APPOINTMENT_PLATFORM_SEARCH: PlatformSearchReply,
    IntentName.APPOINTMENT_BOARD: BoardReply,
    IntentName.APPOINTMENT_ATTACH: AttachReply,
    IntentName.APPOINTMENT_JOURNAL: JournalReply,
}
EVENTS: dict[EventName, type] = {
    EventName.APPOINTMENT_RECEIVED: AppointmentChange,
    EventName.APPOINTMENT_UPDATED: AppointmentChange,
    EventName.APPOINTMENT_ATTACHED: AppointmentAttached,
    EventName.APPOINTMENT_REFUSED: AppointmentRefused,
}
