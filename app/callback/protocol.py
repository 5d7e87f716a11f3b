"""The call-back's intents as the desk sends them: the plan, attempts, scripts, the
appointment after. No database and no hub code: a desk that imports this loads neither."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict

from app.callback.vocab import (
    AppointmentStatus,
    AttemptResult,
    RefusalReason,
    TargetKind,
)
from app.directory.protocol import BookingView
from app.domain.enums import ConsultationType
from app.hub.events import EventName
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


# What the hub answers and broadcasts about a call-back plan (app.callback.hub and
# views build them; the desk's call-back panel applies them without asking again).


class TargetView(TypedDict):
    id: int
    task_id: int
    position: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    effecteur_id: int | None
    name: str
    phone_direct: str
    phone_secretary: str
    place: str
    conditions: str
    slot_id: int | None
    slot_start: str | None
    slot_type: str | None
    distance_km: float | None
    why: str
    skip_reason: str
    retry_at: str | None
    added_by_id: int | None


class AttemptView(TypedDict):
    id: int
    task_id: int
    target_id: int
    by_id: int | None
    at: str | None
    number: str
    call_ref: str
    duration_seconds: float | None
    recording_path: str
    result: str
    result_label: str
    refusal_reason: str
    call_back_at: str | None
    note: str


class AppointmentView(TypedDict):
    id: int
    task_id: int
    dossier_id: int
    target_id: int | None
    effecteur_id: int | None
    booking_id: int | None
    outcome: str
    doctor: str
    is_treating_doctor: bool
    at: str | None
    place: str
    consultation_type: str
    status: str
    status_label: str
    status_at: str | None
    regulated_at: str | None
    note: str


class PlanView(TypedDict):
    task_id: int
    targets: list[TargetView]
    next_target_id: int | None
    attempts: list[AttemptView]
    appointment: AppointmentView | None
    deadline_at: str | None
    notes: list[str]


class ScriptQuestion(TypedDict):
    id: str
    text: str
    answers: list[str]


class ScriptView(TypedDict):
    step: str
    title: str
    text: str
    questions: list[ScriptQuestion]
    conclusion: str
    message: str


class PatientText(TypedDict):
    message: str
    script: ScriptView
    send_to: str


class BillingLine(TypedDict):
    code: str
    amount_eur: int
    applies: bool
    why: str


class Billing(TypedDict):
    lines: list[BillingLine]
    total_eur: int
    text: str
    weekly_snp: int
    weekly_cap: int


class Letter(TypedDict):
    filename: str
    media_type: str
    pdf_base64: str


class PlanReply(TypedDict):
    plan: PlanView


class TargetReply(PlanReply):
    target: TargetView


class AttemptReply(PlanReply):
    attempt: AttemptView
    target: TargetView
    warnings: list[str]
    booking: NotRequired[BookingView]  # an editor's slot: booked on its page
    appointment: NotRequired[AppointmentView]  # accepted: the task is closed
    patient_text: NotRequired[PatientText]
    billing: NotRequired[Billing]


class ScriptReply(TypedDict):
    script: ScriptView
    target: NotRequired[TargetView]


class AppointmentReply(TypedDict):
    appointment: AppointmentView


class PatientTextReply(TypedDict):
    patient_text: PatientText


class BillingReply(TypedDict):
    billing: Billing


class LetterReply(TypedDict):
    letter: Letter


class OsnpTable(TypedDict):
    """Counts per day and sector: ``rows`` hold ``day``, ``sector`` and one count per
    column."""

    columns: list[str]
    rows: list[dict[str, str | int]]
    totals: dict[str, int]


class StatsReply(TypedDict):
    stats: OsnpTable


class PlanBuiltData(TypedDict):
    targets: int
    rebuild: bool
    kinds: list[str]
    notes: list[str]
    #: The plan's targets in order (events logged before it was sent have none).
    target_ids: NotRequired[list[int]]


class TargetAddedData(TypedDict):
    target: TargetView


class TargetSkippedData(TargetAddedData):
    target_id: int
    target_kind: str
    target_name: str
    reason: str


class PlanReorderedData(TypedDict):
    order: list[int]  # the targets' ids, in their new order


class AttemptData(TypedDict):
    attempt_id: int
    target_id: int
    target_kind: str
    target_name: str
    effecteur_id: int | None
    call_ref: str | None
    result: str
    refusal_reason: str | None
    call_back_at: str | None
    retry_at: str | None
    number: str
    duration_seconds: float | None
    recording_path: str | None
    target: TargetView  # as it stands after the attempt


class AppointmentMadeData(TypedDict):
    appointment: AppointmentView
    outcome: str
    billing: Billing


class AppointmentStatusData(TypedDict):
    appointment_id: int
    from_status: str
    status: str
    outcome: str
    note: str


class LetterMadeData(TypedDict):
    appointment_id: int
    treating_doctor: str
    bytes: int
    filename: str


class ReminderData(TypedDict):
    reminder_id: int
    target_id: int | None
    target: str
    phone: str
    due_at: str | None
    late_seconds: float
    message: str


class DeadlineNearData(TypedDict):
    reminder_id: int
    deadline_at: str | None
    hours_left: float
    message: str


class OutsideHoursData(TypedDict):
    reminder_id: int
    closing: str | None
    message: str


REPLIES: dict[IntentName, type] = {
    IntentName.CALLBACK_PLAN: PlanReply,
    IntentName.CALLBACK_TARGET_ADD: TargetReply,
    IntentName.CALLBACK_TARGET_SKIP: TargetReply,
    IntentName.CALLBACK_PLAN_REORDER: PlanReply,
    IntentName.CALLBACK_ATTEMPT: AttemptReply,
    IntentName.CALLBACK_SCRIPT: ScriptReply,
    IntentName.CALLBACK_APPOINTMENT_STATUS: AppointmentReply,
    IntentName.CALLBACK_PATIENT_TEXT: PatientTextReply,
    IntentName.CALLBACK_LETTER: LetterReply,
    IntentName.CALLBACK_BILLING: BillingReply,
    IntentName.CALLBACK_STATS: StatsReply,
}
EVENTS: dict[EventName, type] = {
    EventName.CALLBACK_PLAN_BUILT: PlanBuiltData,
    EventName.CALLBACK_TARGET_ADDED: TargetAddedData,
    EventName.CALLBACK_TARGET_SKIPPED: TargetSkippedData,
    EventName.CALLBACK_PLAN_REORDERED: PlanReorderedData,
    EventName.CALLBACK_ATTEMPT: AttemptData,
    EventName.CALLBACK_APPOINTMENT: AppointmentMadeData,
    EventName.CALLBACK_APPOINTMENT_STATUS: AppointmentStatusData,
    EventName.CALLBACK_LETTER_MADE: LetterMadeData,
    EventName.CALLBACK_REMINDER: ReminderData,
    EventName.CALLBACK_DEADLINE_NEAR: DeadlineNearData,
    EventName.CALLBACK_OUTSIDE_HOURS: OutsideHoursData,
}
