"""The regulation flow's intents: calls, dossiers, queues and OSNP tasks.

The kernel's wire types (``Intent``, ``IntentName``, the field types, parsing) are in
app.hub.protocol. ``INTENTS`` is what the flow's extension serves and what the desk's
wire registers (app.client.wire): nothing joins a wire by being imported. See
docs/protocol.md for an example of every message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict

from app.domain.enums import (
    CareLevel,
    ConsultationType,
    Decision,
    Filiere,
    Line,
    Means,
    NoSolutionReason,
    Orientation,
    Priority,
    Queue,
    Sex,
    TaskOutcome,
    Track,
)
from app.hub.events import EventName
from app.hub.payloads import CallView, DecidedBy, DossierView, TaskView, TimelineEntry
from app.hub.protocol import Code, EntityId, Insee, Intent, IntentName, Phone, Short, Text

__all__ = ["Intent"]  # re-exported: handlers name the base through this module too


class CallOffered(Intent, name=IntentName.CALL_OFFERED):
    """The desk's line rings (a fork rings several desks with the same call_ref)."""

    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    line: Line
    caller: Phone = ""
    ringing_at: datetime | None = None


class CallAnswered(Intent, name=IntentName.CALL_ANSWERED):
    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class CallEnded(Intent, name=IntentName.CALL_ENDED):
    """The call is over on this desk. ``ended_at``: when, by the desk's clock, if not now
    (a desk that crashed mid-call ends it at its next start, when its recording stopped)."""

    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    reason: Annotated[str, StringConstraints(max_length=32)] = ""
    ended_at: datetime | None = None


# ``call.recording`` (the call's WAV, uploaded to the hub's store) is in app/recordings/hub.py.


class DossierFields(BaseModel):
    """The fields a desk may type into a dossier; all optional (partial update)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    patient_last_name: Short | None = None
    patient_first_name: Short | None = None
    patient_sex: Sex | None = None
    patient_age: Annotated[int, Field(ge=0, le=130)] | None = None
    patient_birth_date: date | None = None
    callback_number: Phone | None = None
    commune_insee: Insee | None = None
    commune_name: Short | None = None
    address: Text | None = None
    motif: Text | None = None
    notes: Text | None = None
    treating_doctor: Short | None = None


class DossierUpdate(Intent, name=IntentName.DOSSIER_UPDATE):
    dossier_id: EntityId
    fields: DossierFields


class DossierQualify(Intent, name=IntentName.DOSSIER_QUALIFY):
    dossier_id: EntityId
    priority: Priority


class DossierClose(Intent, name=IntentName.DOSSIER_CLOSE):
    dossier_id: EntityId
    reason: Text = ""


class DossierTake(Intent, name=IntentName.DOSSIER_TAKE):
    dossier_id: EntityId


class QueueNext(Intent, name=IntentName.QUEUE_NEXT):
    """Take the dossier that has waited longest at the highest priority."""

    queue: Queue


class QueueList(Intent, name=IntentName.QUEUE_LIST):
    queue: Queue


class DossierRelease(Intent, name=IntentName.DOSSIER_RELEASE):
    dossier_id: EntityId
    reason: Text = ""


class DossierForward(Intent, name=IntentName.DOSSIER_FORWARD):
    """ARM N2 hands an AMU dossier to the AMU doctor."""

    dossier_id: EntityId
    queue: Queue


class DossierMoveTrack(Intent, name=IntentName.DOSSIER_MOVE_TRACK):
    dossier_id: EntityId
    track: Track
    reason: Text = ""


class DossierDecide(Intent, name=IntentName.DOSSIER_DECIDE):
    dossier_id: EntityId
    decision: Decision
    care_level: CareLevel
    filiere: Filiere
    orientation: Orientation | None = None
    consultation_type: ConsultationType | None = None
    means: Means | None = None
    comment: Text = ""
    #: For a consultation: whom the patient should see (app.domain.professions), as
    #: TRE-G15 profession and TRE-R38 specialty codes; none given: médecine générale.
    profession: Code | None = None
    specialty: Code | None = None


class DossierGet(Intent, name=IntentName.DOSSIER_GET):
    dossier_id: EntityId


class DossierNote(Intent, name=IntentName.DOSSIER_NOTE):
    dossier_id: EntityId
    text: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class TaskTake(Intent, name=IntentName.TASK_TAKE):
    task_id: EntityId


class Appointment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    with_: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(alias="with")
    at: datetime
    place: Text = ""
    consultation_type: ConsultationType | None = None


class TaskReopen(Intent, name=IntentName.TASK_REOPEN):
    """Search again after a cancelled appointment or a no-show, before the deadline."""

    task_id: EntityId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class TaskClose(Intent, name=IntentName.TASK_CLOSE):
    task_id: EntityId
    outcome: TaskOutcome
    appointment: Appointment | None = None
    no_solution_reason: NoSolutionReason | None = None
    comment: Text = ""


#: The regulation flow's intents (calls, dossiers, queues, tasks: app.flow.handlers).
INTENTS: tuple[type[Intent], ...] = (
    CallOffered,
    CallAnswered,
    CallEnded,
    DossierUpdate,
    DossierQualify,
    DossierClose,
    DossierTake,
    QueueNext,
    QueueList,
    DossierRelease,
    DossierForward,
    DossierMoveTrack,
    DossierDecide,
    DossierGet,
    DossierNote,
    TaskTake,
    TaskReopen,
    TaskClose,
)


# What the hub answers and broadcasts (app.flow.handlers builds them, the desk's
# controllers read them): the replies, then each event's ``data``.


class CallReply(TypedDict):
    call: CallView


class DossierReply(TypedDict):
    dossier: DossierView


class QueueListReply(TypedDict):
    queue: str
    dossiers: list[DossierView]


class DecideReply(TypedDict):
    dossier: DossierView
    task: TaskView | None  # the OSNP's appointment search, when the decision asks one


class DossierGetReply(TypedDict):
    dossier: DossierView
    task: TaskView | None
    timeline: list[TimelineEntry]


class TaskReply(TypedDict):
    task: TaskView


class TaskDossierReply(TypedDict):
    task: TaskView
    dossier: DossierView


class CallOfferedData(TypedDict):
    line: str
    caller: str
    offered_at: str | None


class CallAnsweredData(TypedDict):
    wait_seconds: float


class CallEndedData(TypedDict):
    reason: str
    abandoned: bool
    talk_seconds: float
    ended_at: str | None


class DossierOpenedData(TypedDict):
    line: str
    caller: str
    call_id: int | None
    source: NotRequired[str]  # "hubsante": opened by a case from another SAMU
    case_id: NotRequired[str]


class DossierUpdatedData(TypedDict):
    """The fields changed, with their new value (dates as ISO text)."""

    fields: dict[str, object]
    source: NotRequired[str]
    case_id: NotRequired[str]
    same_patient_as: NotRequired[int]  # linked to an earlier dossier (app.history)


class DossierQualifiedData(TypedDict):
    priority: str | None
    queue: str | None
    track: str | None
    reflex: bool
    source: NotRequired[str]


class DossierTakenData(TypedDict):
    queue: str
    waited_seconds: float


class DossierRequeuedData(TypedDict):
    """``dossier.released``, ``dossier.forwarded``, ``dossier.track_moved``: the queue it
    went back to."""

    queue: str
    reason: NotRequired[str]
    from_track: NotRequired[str | None]
    to_track: NotRequired[str]


class DossierDecidedData(TypedDict):
    decision: str | None
    care_level: str | None
    filiere: str | None
    orientation: str | None
    track: str | None
    decided_by: DecidedBy | None
    consultation_type: NotRequired[str | None]  # with an OSNP appointment search
    profession: NotRequired[str]
    specialty: NotRequired[str]
    means: NotRequired[str | None]  # without


class DossierNoteData(TypedDict):
    text: str


class DossierClosedData(TypedDict):
    reason: str
    track: str | None
    priority: str | None
    decision: str | None
    total_seconds: float


class TaskCreatedData(TypedDict):
    deadline_at: str | None


class TaskTakenData(TypedDict):
    waited_seconds: float


class TaskCancelledData(TypedDict):
    reason: str


class TaskClosedData(TypedDict):
    outcome: str | None
    no_solution_reason: str | None
    appointment_at: str | None
    seconds_to_outcome: float


class TaskReopenedData(TypedDict):
    reason: str
    previous_outcome: str | None


#: Each flow intent's reply.
REPLIES: dict[IntentName, type] = {
    IntentName.CALL_OFFERED: CallReply,
    IntentName.CALL_ANSWERED: DossierReply,
    IntentName.CALL_ENDED: CallReply,
    IntentName.DOSSIER_UPDATE: DossierReply,
    IntentName.DOSSIER_QUALIFY: DossierReply,
    IntentName.DOSSIER_CLOSE: DossierReply,
    IntentName.DOSSIER_TAKE: DossierReply,
    IntentName.QUEUE_NEXT: DossierReply,
    IntentName.QUEUE_LIST: QueueListReply,
    IntentName.DOSSIER_RELEASE: DossierReply,
    IntentName.DOSSIER_FORWARD: DossierReply,
    IntentName.DOSSIER_MOVE_TRACK: DossierReply,
    IntentName.DOSSIER_DECIDE: DecideReply,
    IntentName.DOSSIER_GET: DossierGetReply,
    IntentName.DOSSIER_NOTE: DossierReply,
    IntentName.TASK_TAKE: TaskReply,
    IntentName.TASK_REOPEN: TaskDossierReply,
    IntentName.TASK_CLOSE: TaskDossierReply,
}
#: Each flow event's ``data``.
EVENTS: dict[EventName, type] = {
    EventName.CALL_OFFERED: CallOfferedData,
    EventName.CALL_ANSWERED: CallAnsweredData,
    EventName.CALL_ENDED: CallEndedData,
    EventName.DOSSIER_OPENED: DossierOpenedData,
    EventName.DOSSIER_UPDATED: DossierUpdatedData,
    EventName.DOSSIER_QUALIFIED: DossierQualifiedData,
    EventName.DOSSIER_TAKEN: DossierTakenData,
    EventName.DOSSIER_RELEASED: DossierRequeuedData,
    EventName.DOSSIER_FORWARDED: DossierRequeuedData,
    EventName.DOSSIER_TRACK_MOVED: DossierRequeuedData,
    EventName.DOSSIER_DECIDED: DossierDecidedData,
    EventName.DOSSIER_NOTE: DossierNoteData,
    EventName.DOSSIER_CLOSED: DossierClosedData,
    EventName.TASK_CREATED: TaskCreatedData,
    EventName.TASK_TAKEN: TaskTakenData,
    EventName.TASK_CANCELLED: TaskCancelledData,
    EventName.TASK_CLOSED: TaskClosedData,
    EventName.TASK_REOPENED: TaskReopenedData,
}
