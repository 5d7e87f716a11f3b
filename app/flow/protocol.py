"""The regulation flow's intents: calls, dossiers, queues and OSNP tasks.

The kernel's wire types (``Intent``, ``IntentName``, the field types, parsing) are in
app.hub.protocol; these models join the union the hub parses once this module is
imported (the flow's extension and the desk both import it). See docs/protocol.md for
an example of every message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
from app.hub.protocol import Code, EntityId, Insee, Intent, IntentName, Phone, Short, Text

__all__ = ["Intent"]  # re-exported: handlers name the base through this module too


class CallOffered(Intent):
    """The desk's line rings (a fork rings several desks with the same call_ref)."""

    type: Literal[IntentName.CALL_OFFERED] = IntentName.CALL_OFFERED
    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    line: Line
    caller: Phone = ""
    ringing_at: datetime | None = None


class CallAnswered(Intent):
    type: Literal[IntentName.CALL_ANSWERED] = IntentName.CALL_ANSWERED
    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class CallEnded(Intent):
    """The call is over on this desk. ``ended_at``: when, by the desk's clock, if not now
    (a desk that crashed mid-call ends it at its next start, when its recording stopped)."""

    type: Literal[IntentName.CALL_ENDED] = IntentName.CALL_ENDED
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


class DossierUpdate(Intent):
    type: Literal[IntentName.DOSSIER_UPDATE] = IntentName.DOSSIER_UPDATE
    dossier_id: EntityId
    fields: DossierFields


class DossierQualify(Intent):
    type: Literal[IntentName.DOSSIER_QUALIFY] = IntentName.DOSSIER_QUALIFY
    dossier_id: EntityId
    priority: Priority


class DossierClose(Intent):
    type: Literal[IntentName.DOSSIER_CLOSE] = IntentName.DOSSIER_CLOSE
    dossier_id: EntityId
    reason: Text = ""


class DossierTake(Intent):
    type: Literal[IntentName.DOSSIER_TAKE] = IntentName.DOSSIER_TAKE
    dossier_id: EntityId


class QueueNext(Intent):
    """Take the dossier that has waited longest at the highest priority."""

    type: Literal[IntentName.QUEUE_NEXT] = IntentName.QUEUE_NEXT
    queue: Queue


class QueueList(Intent):
    type: Literal[IntentName.QUEUE_LIST] = IntentName.QUEUE_LIST
    queue: Queue


class DossierRelease(Intent):
    type: Literal[IntentName.DOSSIER_RELEASE] = IntentName.DOSSIER_RELEASE
    dossier_id: EntityId
    reason: Text = ""


class DossierForward(Intent):
    """ARM N2 hands an AMU dossier to the AMU doctor."""

    type: Literal[IntentName.DOSSIER_FORWARD] = IntentName.DOSSIER_FORWARD
    dossier_id: EntityId
    queue: Queue


class DossierMoveTrack(Intent):
    type: Literal[IntentName.DOSSIER_MOVE_TRACK] = IntentName.DOSSIER_MOVE_TRACK
    dossier_id: EntityId
    track: Track
    reason: Text = ""


class DossierDecide(Intent):
    type: Literal[IntentName.DOSSIER_DECIDE] = IntentName.DOSSIER_DECIDE
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


class DossierGet(Intent):
    type: Literal[IntentName.DOSSIER_GET] = IntentName.DOSSIER_GET
    dossier_id: EntityId


class DossierNote(Intent):
    type: Literal[IntentName.DOSSIER_NOTE] = IntentName.DOSSIER_NOTE
    dossier_id: EntityId
    text: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class TaskTake(Intent):
    type: Literal[IntentName.TASK_TAKE] = IntentName.TASK_TAKE
    task_id: EntityId


class Appointment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    with_: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(alias="with")
    at: datetime
    place: Text = ""
    consultation_type: ConsultationType | None = None


class TaskReopen(Intent):
    """Search again after a cancelled appointment or a no-show, before the deadline."""

    type: Literal[IntentName.TASK_REOPEN] = IntentName.TASK_REOPEN
    task_id: EntityId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class TaskClose(Intent):
    type: Literal[IntentName.TASK_CLOSE] = IntentName.TASK_CLOSE
    task_id: EntityId
    outcome: TaskOutcome
    appointment: Appointment | None = None
    no_solution_reason: NoSolutionReason | None = None
    comment: Text = ""
