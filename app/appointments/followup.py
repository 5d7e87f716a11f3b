"""An agenda's fate closes the call-back follow-up that was waiting for it.

When an appointment an agenda reported (an editor's FrAppointmentSAS, the national
platform's RS-SAS-RDV) is ``fulfilled``, ``noshow`` or ``cancelled`` and belongs to a
dossier, the call-back appointment the OSNP's task ended with is moved to HONOURED,
NO_SHOW or CANCELLED in the same unit of work, with the event the OSNP's own
``callback.appointment.status`` sends (no actor, a note saying where it came from): the
desks and the statistics see it without anyone typing it.

Which call-back appointment: the one holding the same booking (``booking_id``), else
the one of the dossier's task with the same effecteur and the same start. None, or
more than one (two of the agenda's appointments in that dossier name the same doctor
and start), and nothing is done. One already final is left as it is. The agenda is the
doctor's own record: a fate it reports before the appointment's time is recorded (the
OSNP's typed fate waits for that time).
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.appointments.models import Appointment
from app.callback.fate import record_status
from app.callback.models import Appointment as CallbackAppointment
from app.callback.vocab import APPOINTMENT_MOVES, AppointmentStatus
from app.db.models import OsnpTask
from app.hub.service import Unit

log = logging.getLogger(__name__)

#: The agenda's fate → the call-back appointment's status.
FATES = {
    "fulfilled": AppointmentStatus.HONOURED,
    "noshow": AppointmentStatus.NO_SHOW,
    "cancelled": AppointmentStatus.CANCELLED,
}

PLATFORM = "platform"


def source_note(row: Appointment) -> str:
    """The note the call-back appointment and its event carry, in French."""
    if row.source == PLATFORM:
        return "retour de la plateforme SAS"
    return f"retour de l'agenda ({row.sender})"


def _one(
    found: list[CallbackAppointment], row: Appointment, how: str
) -> CallbackAppointment | None:
    if len(found) > 1:
        log.info(
            "appointment %s (%s): %d call-back appointments by %s, none moved",
            row.id, row.status, len(found), how,
        )  # fmt: skip
        return None
    return found[0] if found else None


def waiting_for(s: Session, row: Appointment) -> CallbackAppointment | None:
    """The call-back appointment ``row`` is the agenda's record of, if exactly one."""
    if row.booking_id is not None:
        by_booking = list(
            s.scalars(
                select(CallbackAppointment)
                .where(CallbackAppointment.booking_id == row.booking_id)
                .with_for_update()
            )
        )
        if by_booking:
            return _one(by_booking, row, f"booking {row.booking_id}")
    if row.dossier_id is None or row.effecteur_id is None:
        return None
    twins = s.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.dossier_id == row.dossier_id,
            Appointment.effecteur_id == row.effecteur_id,
            Appointment.start == row.start,
        )
    )
    if twins is not None and twins > 1:
        log.info(
            "appointment %s (%s): %d of the agenda's appointments in dossier %s name the same "
            "doctor and start, no call-back appointment moved",
            row.id, row.status, twins, row.dossier_id,
        )  # fmt: skip
        return None
    found = list(
        s.scalars(
            select(CallbackAppointment)
            .join(OsnpTask, OsnpTask.id == CallbackAppointment.task_id)
            .where(
                OsnpTask.dossier_id == row.dossier_id,
                CallbackAppointment.effecteur_id == row.effecteur_id,
                CallbackAppointment.at == row.start,
            )
            .with_for_update()
        )
    )
    return _one(found, row, f"dossier {row.dossier_id}, effecteur and start")


def follow_up(u: Unit, row: Appointment, *, weekly_cap: int) -> CallbackAppointment | None:
    """Record ``row``'s fate on the call-back appointment waiting for it, in ``u``; the
    appointment moved, else None (no fate yet, none waiting, or already final)."""
    to = FATES.get(row.status)
    if to is None:
        return None
    ap = waiting_for(u.s, row)
    if ap is None:
        return None
    if to not in APPOINTMENT_MOVES[AppointmentStatus(ap.status)]:
        log.info(
            "appointment %s (%s): call-back appointment %s already %s, left as it is",
            row.id, row.status, ap.id, ap.status,
        )  # fmt: skip
        return None
    task = u.s.get(OsnpTask, ap.task_id)
    assert task is not None
    record_status(u, ap, task, to, note=source_note(row), weekly_cap=weekly_cap, reported=True)
    return ap
