"""An agenda's word on an appointment reaches the call-back follow-up waiting for it.

When an appointment an agenda reported (an editor's FrAppointmentSAS, the national
platform's RS-SAS-RDV) belongs to a dossier, the call-back appointment the OSNP's task
ended with follows it in the same unit of work: ``booked`` makes it CONFIRMED (the
doctor's agenda holds it), ``fulfilled``, ``noshow`` or ``cancelled`` make it HONOURED,
NO_SHOW or CANCELLED, with the event the OSNP's own ``callback.appointment.status``
sends (no actor, a note saying where it came from): the desks and the statistics see it
without anyone typing it. An appointment the agenda moved (same identifier, a new
start) moves the call-back appointment, its task's time and the booking made at the
editor, so that its later fate still finds it.

Which call-back appointment: the one holding the same booking (``booking_id``), else
the one of the dossier's task with the same effecteur and the same start (the start
before the move, for a move). None, or more than one (two of the agenda's appointments
in that dossier name the same doctor and start), and nothing is done. One already
final is left as it is. The agenda is the doctor's own record: a fate it reports
before the appointment's time is recorded (the OSNP's typed fate waits for that time).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.appointments.models import Appointment
from app.callback.fate import record_status
from app.callback.models import Appointment as CallbackAppointment
from app.callback.vocab import APPOINTMENT_MOVES, AppointmentStatus
from app.db.models import OsnpTask
from app.directory.booking import hm
from app.directory.models import Booking
from app.hub.service import Unit

log = logging.getLogger(__name__)

#: The agenda's status → the call-back appointment's status.
FATES = {
    "booked": AppointmentStatus.CONFIRMED,
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


def waiting_for(
    s: Session, row: Appointment, at: datetime | None = None
) -> CallbackAppointment | None:
    """The call-back appointment ``row`` is the agenda's record of, if exactly one;
    ``at``: the start it had (before a move), else its start."""
    at = at or row.start
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
            Appointment.start == at,
            Appointment.id != row.id,
        )
    )
    if twins:
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
                CallbackAppointment.at == at,
            )
            .with_for_update()
        )
    )
    return _one(found, row, f"dossier {row.dossier_id}, effecteur and start")


def _move(u: Unit, ap: CallbackAppointment, row: Appointment, note: str) -> None:
    """The agenda moved the appointment: the call-back appointment, its task's time and
    the booking made at the editor follow (the agenda is the doctor's own record)."""
    was = ap.at
    ap.at = row.start
    ap.note = (ap.note + "\n" + f"déplacé au {hm(row.start)} ({note})").strip()
    task = u.s.get(OsnpTask, ap.task_id)
    if task is not None and task.appointment_at == was:
        task.appointment_at = row.start
    booking = u.s.get(Booking, ap.booking_id) if ap.booking_id is not None else None
    if booking is not None and booking.agenda_status and booking.appointment_at == was:
        booking.appointment_at = row.start


def follow_up(
    u: Unit, row: Appointment, *, weekly_cap: int, moved_from: datetime | None = None
) -> CallbackAppointment | None:
    """Record ``row``'s word on the call-back appointment waiting for it, in ``u``:
    ``booked`` confirms it, a fate closes it, a move (``moved_from``: the start before
    this update) moves it. The appointment changed, else None (none waiting, already
    final, or nothing new)."""
    to = FATES.get(row.status)
    if to is None:
        return None
    ap = waiting_for(u.s, row, moved_from)
    if ap is None:
        return None
    current = AppointmentStatus(ap.status)
    if not APPOINTMENT_MOVES[current]:
        log.info(
            "appointment %s (%s): call-back appointment %s already %s, left as it is",
            row.id, row.status, ap.id, ap.status,
        )  # fmt: skip
        return None
    note = source_note(row)
    moved = moved_from is not None and ap.at != row.start
    if moved:
        _move(u, ap, row, note)
    if to not in APPOINTMENT_MOVES[current]:  # booked again on a confirmed one: no news
        return ap if moved else None
    task = u.s.get(OsnpTask, ap.task_id)
    assert task is not None
    record_status(u, ap, task, to, note=note, weekly_cap=weekly_cap, reported=True)
    return ap


def confirm_held(u: Unit, ap: CallbackAppointment, *, weekly_cap: int) -> bool:
    """A call-back appointment just made (the OSNP noted the doctor's yes) that the
    doctor's agenda already holds: the agenda's ``booked`` came first, on the dossier
    (attached by itself while the OSNP was on the phone, or from the board), with the
    same doctor and start. Exactly one such appointment: CONFIRMED, in ``u``."""
    if ap.status != AppointmentStatus.BOOKED or ap.effecteur_id is None:
        return False
    held = list(
        u.s.scalars(
            select(Appointment).where(
                Appointment.dossier_id == ap.dossier_id,
                Appointment.effecteur_id == ap.effecteur_id,
                Appointment.start == ap.at,
                Appointment.status == "booked",
            )
        )
    )
    if len(held) != 1:
        return False
    task = u.s.get(OsnpTask, ap.task_id)
    assert task is not None
    note = source_note(held[0])
    record_status(
        u, ap, task, AppointmentStatus.CONFIRMED, note=note, weekly_cap=weekly_cap, reported=True
    )
    return True
