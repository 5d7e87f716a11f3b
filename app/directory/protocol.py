"""The directory's intents as the desk sends them: search and booking, the agenda editor's
slots and unavailabilities, the imports' upload. No database and no hub code: a desk that
imports this loads neither."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, TypedDict, get_args

from pydantic import Field, StringConstraints

from app.directory.query import BANDS
from app.directory.vocab import MAX_CAPACITY, MAX_WEEKS, Visibility
from app.domain.enums import ConsultationType
from app.hub.protocol import EntityId, Insee, Intent, IntentName, Short, Text

Band = Literal["0-4", "4-8", "8-12", "12-24", "24-48", "48-72"]
assert set(get_args(Band)) == set(BANDS)


class DirectorySearch(Intent, name=IntentName.DIRECTORY_SEARCH):
    """Search from a dossier (its commune, age, motif, MT are used) and/or typed fields."""

    dossier_id: EntityId | None = None
    commune_insee: Insee | None = None
    radius_km: Annotated[float, Field(gt=0, le=200)] | None = None
    bands: list[Band] = []
    types: list[ConsultationType] = []
    visibilities: list[Visibility] = []
    skills: list[Short] = []
    patient_age: Annotated[int, Field(ge=0, le=130)] | None = None
    motif: Text | None = None
    treating_doctor: Short | None = None
    text: Short = ""
    limit: Annotated[int, Field(ge=1, le=200)] = 30
    slots_per_day: Annotated[int, Field(ge=1, le=50)] = 4
    #: Whom to search (app.domain.professions codes); from a dossier, its task's
    #: by default. profession "*": every profession (a search typed freely).
    profession: Short | None = None
    specialty: Short | None = None


class SlotBook(Intent, name=IntentName.SLOT_BOOK):
    slot_id: EntityId
    dossier_id: EntityId | None = None
    comment: Text = ""


class SlotBookBeyond(Intent, name=IntentName.SLOT_BOOK_BEYOND):
    """A doctor accepted the patient beyond published slots ("hors disponibilité")."""

    effecteur_id: EntityId
    at: datetime
    consultation_type: ConsultationType = ConsultationType.CABINET
    dossier_id: EntityId | None = None
    comment: Text = ""


class SlotRelease(Intent, name=IntentName.SLOT_RELEASE):
    booking_id: EntityId
    reason: Text = ""


class AgendaSlotCreate(Intent, name=IntentName.AGENDA_SLOT_CREATE):
    effecteur_id: EntityId
    start: datetime
    end: datetime
    consultation_type: ConsultationType = ConsultationType.CABINET
    capacity: Annotated[int, Field(ge=1, le=MAX_CAPACITY)] = 1
    visibility: Visibility = Visibility.SNP
    weeks: Annotated[int, Field(ge=1, le=MAX_WEEKS)] = 1
    practice_id: EntityId | None = None
    comment: Text = ""


class AgendaSlotUpdate(Intent, name=IntentName.AGENDA_SLOT_UPDATE):
    slot_id: EntityId
    start: datetime | None = None
    end: datetime | None = None
    capacity: Annotated[int, Field(ge=1, le=MAX_CAPACITY)] | None = None
    consultation_type: ConsultationType | None = None
    visibility: Visibility | None = None


class AgendaSlotCancel(Intent, name=IntentName.AGENDA_SLOT_CANCEL):
    slot_id: EntityId


class UnavailabilityAdd(Intent, name=IntentName.AGENDA_UNAVAILABILITY_ADD):
    effecteur_id: EntityId
    start: datetime
    end: datetime
    reason: Short = ""


class UnavailabilityRemove(Intent, name=IntentName.AGENDA_UNAVAILABILITY_REMOVE):
    unavailability_id: EntityId


class AgendaEffecteurs(Intent, name=IntentName.AGENDA_EFFECTEURS):
    text: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    limit: Annotated[int, Field(ge=1, le=500)] = 200
    read_only: ClassVar[bool] = True


class AgendaView(Intent, name=IntentName.AGENDA_VIEW):
    effecteur_id: EntityId
    days: Annotated[int, Field(ge=1, le=62)] = 14
    read_only: ClassVar[bool] = True


UploadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class DirectoryUpload(Intent, name=IntentName.DIRECTORY_UPLOAD):
    upload_id: UploadId
    seq: Annotated[int, Field(ge=0, lt=10_000)]
    data: Annotated[str, StringConstraints(max_length=48 * 1024)]  # base64


class DirectoryImport(Intent, name=IntentName.DIRECTORY_IMPORT):
    upload_id: UploadId
    kind: Literal["effecteurs", "slots", "ror", "rpps"]
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    rpps: Annotated[str, StringConstraints(pattern=r"^\d{11}$")] | None = None
    strict: bool = False


CHUNK_BYTES = 32 * 1024  # raw bytes per chunk: base64 keeps the message under 64 KiB


# What the hub answers and broadcasts about a booking: built by app.directory.hub, applied
# by the desk's slot search (ui.controllers.search) without searching again.


class SlotView(TypedDict):
    """A slot as the search results and the booking events show it."""

    id: int
    effecteur_id: int
    start: str
    end: str
    type: str
    capacity: int
    booked: int
    is_range: bool
    places: str  # "booked/capacity" for a range, "" otherwise
    visibility: str
    status: str


class BookingView(TypedDict):
    id: int
    slot_id: int | None  # None: booked beyond the published slots
    effecteur_id: int
    effecteur: str
    appointment_at: str
    type: str
    dossier_id: int | None
    requires_call: bool
    released_at: str | None
    #: "" our own place; pending / booked / cancelled at the editor's agenda.
    agenda_status: str
    booking_page: str | None


class BookingChange(TypedDict):
    """The data of ``slot.booked`` and ``slot.released``: the booking, its slot as it is
    now (None beyond the published slots), the doctor's SNP count this week and the cap."""

    booking: BookingView
    slot: SlotView | None
    weekly_snp: int | None
    weekly_cap: int


class BookingReply(BookingChange):
    """The reply to ``slot.book``, ``slot.book_beyond`` and ``slot.release``."""

    warnings: list[str]


#: The search, bookings and agendas (app.directory.hub).
BOOKING_INTENTS: tuple[type[Intent], ...] = (
    DirectorySearch,
    SlotBook,
    SlotBookBeyond,
    SlotRelease,
    AgendaSlotCreate,
    AgendaSlotUpdate,
    AgendaSlotCancel,
    UnavailabilityAdd,
    UnavailabilityRemove,
)
#: A doctor's agenda seen from a desk (app.directory.agenda_desk).
AGENDA_INTENTS: tuple[type[Intent], ...] = (AgendaEffecteurs, AgendaView)
#: A directory file imported from a desk (app.directory.desk_import).
IMPORT_INTENTS: tuple[type[Intent], ...] = (DirectoryUpload, DirectoryImport)
#: What this protocol adds to the wire (registered by the hub's extensions and the desk).
INTENTS: tuple[type[Intent], ...] = BOOKING_INTENTS + AGENDA_INTENTS + IMPORT_INTENTS
