"""The events the hub broadcasts: their names, and the one place their message is built.

Every event name is a member of :class:`EventName` (a ``StrEnum``: it is its own wire
value, compares equal to the string read back from the log, and is stored as such).
Nothing outside ``app.hub.protocol`` and this module spells an event name as a string;
tests/core/test_protocol_names.py checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventName(StrEnum):
    # calls
    CALL_OFFERED = "call.offered"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_RECORDED = "call.recorded"
    RECORDING_OPENED = "recording.opened"
    # dossiers
    DOSSIER_OPENED = "dossier.opened"
    DOSSIER_UPDATED = "dossier.updated"
    DOSSIER_QUALIFIED = "dossier.qualified"
    DOSSIER_TAKEN = "dossier.taken"
    DOSSIER_RELEASED = "dossier.released"
    DOSSIER_FORWARDED = "dossier.forwarded"
    DOSSIER_TRACK_MOVED = "dossier.track_moved"
    DOSSIER_DECIDED = "dossier.decided"
    DOSSIER_NOTE = "dossier.note"
    DOSSIER_CLOSED = "dossier.closed"
    #: A booking made on an agenda editor's page: pending, then booked or cancelled by
    #: the editor's appointment (app.directory.editor_booking).
    DOSSIER_AGENDA_BOOKING = "dossier.agenda_booking"
    #: Still pending past the room's delay: check the editor's agenda or phone the doctor.
    DOSSIER_AGENDA_LATE = "dossier.agenda_late"
    # OSNP tasks
    TASK_CREATED = "task.created"
    TASK_TAKEN = "task.taken"
    TASK_CANCELLED = "task.cancelled"
    TASK_CLOSED = "task.closed"
    TASK_REOPENED = "task.reopened"
    # directory and agendas
    SLOT_BOOKED = "slot.booked"
    SLOT_RELEASED = "slot.released"
    AGENDA_CHANGED = "agenda.changed"
    DIRECTORY_IMPORTED = "directory.imported"
    DIRECTORY_REFRESH_FAILED = "directory.refresh_failed"
    # call-back
    CALLBACK_PLAN_BUILT = "callback.plan_built"
    CALLBACK_TARGET_ADDED = "callback.target_added"
    CALLBACK_TARGET_SKIPPED = "callback.target_skipped"
    CALLBACK_PLAN_REORDERED = "callback.plan_reordered"
    CALLBACK_ATTEMPT = "callback.attempt"
    CALLBACK_APPOINTMENT = "callback.appointment"
    CALLBACK_APPOINTMENT_STATUS = "callback.appointment_status"
    CALLBACK_LETTER_MADE = "callback.letter_made"
    CALLBACK_REMINDER = "callback.reminder"
    CALLBACK_DEADLINE_NEAR = "callback.deadline_near"
    CALLBACK_OUTSIDE_HOURS = "callback.outside_hours"
    # supervision
    DESK_STATE = "desk.state"
    # Hub Santé (to the supervisors)
    HUBSANTE_REFUSED = "hubsante.refused"
    HUBSANTE_ERROR = "hubsante.error"
    LOGIN_LOCKED = "login.locked"
    # appointments sent back by the agenda editors (app.appointments.hub)
    APPOINTMENT_RECEIVED = "appointment.received"
    APPOINTMENT_UPDATED = "appointment.updated"
    APPOINTMENT_REFUSED = "appointment.refused"
    APPOINTMENT_ATTACHED = "appointment.attached"
    LOGIN_PSC_FALLBACK = "login.psc_fallback"

    @property
    def family(self) -> str:
        """``call``, ``dossier``, ``task``, ``slot``, ``agenda``, ``callback``…"""
        return self.value.split(".", 1)[0]


#: Events that change what the directory search and the agendas show.
SLOT_EVENTS = frozenset({EventName.SLOT_BOOKED, EventName.SLOT_RELEASED, EventName.AGENDA_CHANGED})
#: Events whose message carries the dossier they changed (the desks' lists follow them).
DOSSIER_EVENTS = frozenset(
    {n for n in EventName if n.family in ("dossier", "task", "callback")}
    | {EventName.CALL_RECORDED, EventName.RECORDING_OPENED, EventName.APPOINTMENT_ATTACHED}
)
#: Events whose message may carry the OSNP task they changed (a dossier's own events
#: carry its task, when it has one; so does the recording of a call-back call).
TASK_EVENTS = frozenset(
    {n for n in EventName if n.family in ("dossier", "task", "callback")}
    | {EventName.CALL_RECORDED}
)
#: The call-back panel's events (a plan, an attempt, a reminder…).
CALLBACK_EVENTS = frozenset(n for n in EventName if n.family == "callback")


def event_message(
    seq: int,
    name: str,
    at: datetime,
    actor: str | None,
    data: dict[str, Any],
    *,
    dossier: Mapping[str, object] | None = None,
    task: Mapping[str, object] | None = None,
    call: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """An event as broadcast to desks (live, or rebuilt from the log for another hub):
    an ``app.hub.payloads.EventMessage``, its views the kernel's typed ones."""
    msg: dict[str, Any] = {
        "type": "event",
        "seq": seq,
        "event": str(EventName(name)),  # an unknown name fails here, not on a desk
        "at": at.isoformat(),
        "actor": actor,
        "data": data,
    }
    if dossier is not None:
        msg["dossier"] = dossier
    if task is not None:
        msg["task"] = task
    if call is not None:
        msg["call"] = call
    return msg
