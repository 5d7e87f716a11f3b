"""The call-back's intents as the desk sends them: the plan, attempts, scripts, the
appointment after. No database and no hub code: a desk that imports this loads neither."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.callback.vocab import (
    AppointmentStatus,
    AttemptResult,
    RefusalReason,
    TargetKind,
)
from app.domain.enums import ConsultationType
from app.hub.protocol import EntityId, Intent, IntentName, Phone, Short, Text

Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class CallbackPlan(Intent, name=IntentName.CALLBACK_PLAN):
    """The task's plan (built from the dossier and the directory on first request)."""

    task_id: EntityId
    rebuild: bool = False


class CallbackTargetAdd(Intent, name=IntentName.CALLBACK_TARGET_ADD):
    task_id: EntityId
    kind: TargetKind
    effecteur_id: EntityId | None = None
    name: Short = ""
    phone_direct: Phone = ""
    phone_secretary: Phone = ""
    place: Text = ""
    position: Annotated[int, Field(ge=1, le=500)] | None = None
    reason: Text = ""


class CallbackTargetSkip(Intent, name=IntentName.CALLBACK_TARGET_SKIP):
    target_id: EntityId
    reason: Reason


class CallbackPlanReorder(Intent, name=IntentName.CALLBACK_PLAN_REORDER):
    task_id: EntityId
    order: Annotated[list[EntityId], Field(min_length=1, max_length=500)]


class AcceptedAppointment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at: datetime | None = None  # a published slot's own time when omitted
    place: Text = ""
    consultation_type: ConsultationType | None = None


class CallbackAttemptIntent(Intent, name=IntentName.CALLBACK_ATTEMPT):
    """One call to a target and its outcome (duration from the desk). Its recording is
    uploaded by the desk under ``call_ref`` (app.recordings), never sent as a path."""

    target_id: EntityId
    result: AttemptResult
    number: Phone = ""
    call_ref: Annotated[str, StringConstraints(max_length=255)] = ""
    duration_seconds: Annotated[float, Field(ge=0, le=86400)] | None = None
    refusal_reason: RefusalReason | None = None
    call_back_at: datetime | None = None
    retry_at: datetime | None = None
    appointment: AcceptedAppointment | None = None
    regulator_decision: Short = ""
    note: Text = ""


class CallbackScript(Intent, name=IntentName.CALLBACK_SCRIPT):
    """The script to read for a target (or the patient's, once the RDV exists)."""

    target_id: EntityId | None = None
    task_id: EntityId | None = None


class AppointmentStatusIntent(Intent, name=IntentName.CALLBACK_APPOINTMENT_STATUS):
    appointment_id: EntityId
    status: AppointmentStatus
    note: Text = ""


class CallbackPatientText(Intent, name=IntentName.CALLBACK_PATIENT_TEXT):
    task_id: EntityId


class CallbackLetter(Intent, name=IntentName.CALLBACK_LETTER):
    task_id: EntityId


class CallbackBilling(Intent, name=IntentName.CALLBACK_BILLING):
    task_id: EntityId


class CallbackStats(Intent, name=IntentName.CALLBACK_STATS):
    """The seed-003 table over [start, end] (Paris dates), from events."""

    start: date
    end: date


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    CallbackPlan,
    CallbackTargetAdd,
    CallbackTargetSkip,
    CallbackPlanReorder,
    CallbackAttemptIntent,
    CallbackScript,
    AppointmentStatusIntent,
    CallbackPatientText,
    CallbackLetter,
    CallbackBilling,
    CallbackStats,
)
