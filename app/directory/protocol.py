"""The directory's intents as the desk sends them: search and booking, the agenda editor's
slots and unavailabilities, the imports' upload. No database and no hub code: a desk that
imports this loads neither."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, NotRequired, get_args

from pydantic import Field, StringConstraints
from typing_extensions import TypedDict

from app.directory.vocab import BANDS, MAX_CAPACITY, MAX_WEEKS, Visibility
from app.domain.enums import ConsultationType
from app.hub.events import EventName
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


class SlotPlaces(TypedDict):
    """What every view of a slot says: its time, type, places and visibility."""

    id: int
    start: str
    end: str
    type: str
    capacity: int
    booked: int
    is_range: bool
    places: str  # "booked/capacity" for a range, "" otherwise
    visibility: str


class SlotView(SlotPlaces):
    """A slot as the search results and the booking events show it."""

    effecteur_id: int
    status: str
    source: str  # manual, ics, fhir…: where the slot came from (the agenda editor shows it)


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


# The rest of the directory's replies and events: the search, the agenda editor's, the
# imports'. A slot as the agenda editor shows it carries its source; the agenda's
# changes carry their slots (``SlotView``), applied by the editor without reading the
# agenda again (ui.controllers.agenda).


class SearchSlot(SlotPlaces):
    """A slot in a search's results (app.directory.query.SlotHit): its place, and the
    editor's booking page when it is booked there (None: booked here)."""

    practice_id: int | None
    booking_page: str | None


class SearchDay(TypedDict):
    date: str
    slots: list[SearchSlot]
    more: int  # the day's matching slots beyond those shown (« +n »)


class PracticeAgenda(TypedDict):
    """The agenda connected to the SAS at a place, as the result rows show it."""

    agenda_software: str
    agenda_level: str
    agenda_label: str


class SearchPractice(PracticeAgenda):
    """A doctor's practice place with the agenda connected to the SAS there."""

    id: int
    name: str
    address: str
    commune_insee: str
    commune: str
    postal_code: str


class DoctorCard(TypedDict):
    """A doctor as the search results show them (app.directory.engine's ``_Doctor.info``)."""

    rpps: str
    name: str
    first_name: str
    last_name: str
    specialty: str
    profession_code: str
    specialty_code: str
    profession_label: str
    sas_participant: bool
    mode: str
    accepts_beyond_slots: bool
    agenda_level: str
    agenda_software: str
    direct_booking: bool
    skills: list[str]
    conditions: str
    phone_direct: str
    phone_secretary: str
    structure: str
    structure_kind: str
    structure_phone: str
    practices: list[SearchPractice]
    commune: str


class DoctorInfo(DoctorCard):
    """The card and the doctor's absence at the time of the search."""

    absent_until: str | None
    absence_reason: str


class DoctorHitView(DoctorInfo):
    """A doctor found (app.directory.query.DoctorHit): rank and slots by day, with the
    doctor's card (app.directory.engine's ``_Doctor.info``) and absence."""

    effecteur_id: int
    tier: int
    tier_label: str
    distance_km: float | None
    earliest: str | None
    skill_match: int
    specialty_match: int
    mt_ambiguous: bool
    slot_count: int
    days: list[SearchDay]
    weekly_snp: int | None


class CptsHit(TypedDict):
    """The CPTS whose ROR zone covers the patient's commune, with its participants."""

    id: int
    name: str
    snp_phone: str
    national_id: str
    communes: int
    participants: list[DoctorHitView]


class SearchLocation(TypedDict):
    lat: float
    lon: float
    department: str | None
    commune_insee: str


class SearchQueryView(TypedDict):
    """The query as the hub read it (the dossier's and the task's, or what was sent)."""

    commune_insee: str
    patient_age: int | None
    treating_doctor: str
    types: list[str]
    bands: list[str]
    profession: str
    specialty: str
    wanted_label: str


class SearchFound(TypedDict):
    """The engine's result (app.directory.query.SearchResult, its ``to_dict``)."""

    at: str
    radius_km: float | None
    doctors: list[DoctorHitView]
    beyond_slots: list[DoctorHitView]  # « orientation hors disponibilité »
    candidates: int
    with_slots: int
    location: SearchLocation | None
    warnings: list[str]
    cpts: list[CptsHit]


class SearchView(SearchFound):
    """The engine's result with the weekly SNP cap and the query as read."""

    weekly_cap: int
    query: SearchQueryView


class SearchReply(TypedDict):
    """``directory.search``: the doctors and structures found with their slots."""

    search: SearchView


class EffecteurRow(TypedDict):
    id: int
    rpps: str
    name: str
    structure: str
    mode: str
    agenda_level: str
    weekly_availability: list[str]


class EffecteursReply(TypedDict):
    effecteurs: list[EffecteurRow]


class AgendaEffecteur(TypedDict):
    id: int
    name: str
    rpps: str
    weekly_availability: list[str]


class AgendaSlot(TypedDict):
    id: int
    start: str
    end: str
    type: str
    capacity: int
    booked: int
    is_range: bool
    visibility: str
    status: str
    source: str


class UnavailabilityView(TypedDict):
    id: int
    start: str
    end: str
    reason: str


class AgendaReply(TypedDict):
    effecteur: AgendaEffecteur
    slots: list[AgendaSlot]
    unavailabilities: list[UnavailabilityView]


class AgendaChangeReply(TypedDict):
    """``agenda.slot.*`` and ``agenda.unavailability.*``: what ``agenda.changed`` says,
    without its ``action``."""

    slots: list[SlotView]
    effecteur_id: int
    unavailability: NotRequired[UnavailabilityView]
    unavailability_id: NotRequired[int]


class AgendaChange(TypedDict):
    """``agenda.changed``: a slot created, updated or cancelled, an absence added or
    removed (``effecteur_id``, ``slots``), or a whole directory imported or refreshed
    from the editors (``imported``, ``fhir_refreshed``, ``ror_refreshed``: no slots, the
    refresh's report instead)."""

    action: str
    slots: NotRequired[list[SlotView]]
    effecteur_id: NotRequired[int]
    unavailability: NotRequired[UnavailabilityView]
    unavailability_id: NotRequired[int]
    editor: NotRequired[str]
    status: NotRequired[str]
    error: NotRequired[str | None]
    pages: NotRequired[int]
    seconds: NotRequired[float]
    accepted: NotRequired[int]
    created: NotRequired[int]
    updated: NotRequired[int]
    rejected: NotRequired[list[dict[str, str]]]
    warnings: NotRequired[list[dict[str, str]]]
    withdrawn: NotRequired[int]


class UploadReply(TypedDict):
    upload_id: str
    received: int


class ImportLine(TypedDict):
    where: str  # the line or the record
    why: str


class ImportReportView(TypedDict):
    """An import's report (app.directory.imports.common.ImportReport.to_dict)."""

    kind: str
    source: str
    accepted: int
    created: int
    updated: int
    deactivated: int
    rejected: list[ImportLine]
    warnings: list[ImportLine]
    skipped: list[ImportLine]  # what the file holds and was deliberately not imported
    aborted: str  # why nothing was imported ("" when it was)
    encoding: str
    committed: bool


class ImportedReport(ImportReportView):
    """The report of a desk's import: its ``source`` is the file's name."""

    summary: str


class ImportReply(TypedDict):
    """The import's report (app.directory.imports: counts, rejected lines, warnings),
    with the file's name and a one-line summary."""

    report: ImportedReport


class DirectoryImported(TypedDict):
    kind: str
    filename: str
    accepted: int
    rejected: int
    committed: bool


class AgendaBookingData(TypedDict):
    """``dossier.agenda_booking``: a booking at an editor's agenda changed state."""

    booking: BookingView
    agenda_status: str
    message: str


class AgendaLateData(TypedDict):
    """``dossier.agenda_late``: still pending past the room's delay."""

    booking: BookingView
    waited_minutes: int
    phone: str
    message: str


REPLIES: dict[IntentName, type] = {
    IntentName.DIRECTORY_SEARCH: SearchReply,
    IntentName.SLOT_BOOK: BookingReply,
    IntentName.SLOT_BOOK_BEYOND: BookingReply,
    IntentName.SLOT_RELEASE: BookingReply,
    IntentName.AGENDA_SLOT_CREATE: AgendaChangeReply,
    IntentName.AGENDA_SLOT_UPDATE: AgendaChangeReply,
    IntentName.AGENDA_SLOT_CANCEL: AgendaChangeReply,
    IntentName.AGENDA_UNAVAILABILITY_ADD: AgendaChangeReply,
    IntentName.AGENDA_UNAVAILABILITY_REMOVE: AgendaChangeReply,
    IntentName.AGENDA_EFFECTEURS: EffecteursReply,
    IntentName.AGENDA_VIEW: AgendaReply,
    IntentName.DIRECTORY_UPLOAD: UploadReply,
    IntentName.DIRECTORY_IMPORT: ImportReply,
}
EVENTS: dict[EventName, type] = {
    EventName.SLOT_BOOKED: BookingChange,
    EventName.SLOT_RELEASED: BookingChange,
    EventName.AGENDA_CHANGED: AgendaChange,
    EventName.DIRECTORY_IMPORTED: DirectoryImported,
    EventName.DOSSIER_AGENDA_BOOKING: AgendaBookingData,
    EventName.DOSSIER_AGENDA_LATE: AgendaLateData,
}
