"""A call-back appointment's fate, typed by the OSNP or reported by the doctor's agenda.

One function for both, in the caller's unit of work, so the desks and the statistics
see the same ``callback.appointment_status`` whoever recorded it: the OSNP's intent
(``callback.appointment.status``, app.callback.hub) or an agenda's appointment coming
back fulfilled, no-show or cancelled (app.appointments.followup; no actor then).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.callback.models import Appointment
from app.callback.outcomes import move_appointment
from app.callback.vocab import AppointmentStatus
from app.db.models import OsnpTask
from app.directory.booking import release_booking
from app.directory.hub import directory_audience, slot_view
from app.directory.models import Booking
from app.hub.events import EventName
from app.hub.service import Unit
from app.hub.visibility import Audience


def holds_place(s: Session, booking_id: int | None) -> bool:
    """Whether the appointment's booking still holds its place (not freed yet: by a
    desk's ``slot.release``, or by the editor's own cancellation in this transaction)."""
    if booking_id is None:
        return False
    booking = s.get(Booking, booking_id)
    return booking is not None and booking.released_at is None


def record_status(
    u: Unit,
    ap: Appointment,
    task: OsnpTask,
    to: AppointmentStatus,
    *,
    note: str,
    weekly_cap: int,
    reported: bool = False,
) -> None:
    """Move ``ap`` to ``to`` (FlowError when it may not), free its place on a
    cancellation, and tell the task's desks; ``reported``: the agenda said it."""
    before = ap.status
    move_appointment(ap, to, u.now, reported=reported)
    if note:
        ap.note = (ap.note + "\n" + note).strip()
    if to is AppointmentStatus.CANCELLED and holds_place(u.s, ap.booking_id):
        assert ap.booking_id is not None
        o = release_booking(u.s, ap.booking_id, now=u.now, reason=note or "RDV annulé")
        u.emit(
            EventName.SLOT_RELEASED,
            directory_audience(),
            booking={
                "id": o.booking.id,
                "slot_id": o.booking.slot_id,
                "effecteur_id": o.booking.effecteur_id,
            },
            slot=slot_view(o.slot) if o.slot else None,
            weekly_snp=o.weekly_snp,
            weekly_cap=weekly_cap,
        )
    u.emit(
        EventName.CALLBACK_APPOINTMENT_STATUS,
        Audience().add_dossier(task.dossier, task),
        task=task,
        dossier=task.dossier,
        appointment_id=ap.id,
        from_status=before,
        status=ap.status,
        outcome=ap.outcome,
        note=note,
    )
