"""Booking at the editor: the OSNP books on the doctor's agenda page, we wait for the
editor's word.

A slot whose ``comment`` carries a booking page belongs to an agenda editor: its places
are the editor's, not ours. « Réserver » sends the OSNP to that page and records a
booking *pending* (« en attente de l'agenda ») on the dossier: no place is taken from
the slot and it counts toward nothing. The editor's appointment (FHIR
FrAppointmentSAS, app.appointments.store) confirms it when it names the same doctor,
the same start and the regulator who booked (their national identifier); a
``cancelled`` one frees it. A booking still pending after the room's delay is brought
back to the OSNP (app.appointments.hub's reminder watcher).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db.models import User
from app.directory.booking import BookingOutcome, hm, weekly_snp_count
from app.directory.models import Booking, Effecteur, Slot, Unavailability, bump_revision
from app.domain.rules import FlowError

PENDING = "pending"
BOOKED = "booked"
CANCELLED = "cancelled"

#: The dossier's words for each state of a booking made at the editor.
LABELS = {
    PENDING: "en attente de l'agenda",
    BOOKED: "Réservé (confirmé par l'agenda)",
    CANCELLED: "annulé par l'agenda",
}


def book_at_editor(
    session: Session,
    slot_id: int,
    page: str,
    *,
    now: datetime,
    user_id: int | None,
    dossier_id: int | None = None,
    comment: str = "",
) -> BookingOutcome:
    """Record a booking pending at the editor's page ``page``; the slot keeps its places."""
    bump_revision(session)  # the directory's lock order, as every booking
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise FlowError("not_found", f"créneau {slot_id} introuvable")
    if slot.status != "open":
        raise FlowError("conflict", f"le créneau du {hm(slot.start)} a été supprimé de l'agenda")
    if slot.start < now:
        raise FlowError("conflict", f"le créneau du {hm(slot.start)} est déjà passé")
    clash = session.scalar(
        select(Unavailability.id).where(
            Unavailability.effecteur_id == slot.effecteur_id,
            Unavailability.start < slot.end,
            Unavailability.end > slot.start,
        )
    )
    if clash is not None:
        raise FlowError("conflict", f"le médecin est indisponible le {hm(slot.start)}")
    if dossier_id is not None:
        twice = session.scalar(
            select(Booking.id).where(
                Booking.dossier_id == dossier_id,
                Booking.slot_id == slot.id,
                Booking.agenda_status == PENDING,
                Booking.released_at.is_(None),
            )
        )
        if twice is not None:
            raise FlowError(
                "conflict",
                f"ce créneau est déjà en attente de l'agenda pour ce dossier (réservation {twice})",
            )
    effecteur = session.get(Effecteur, slot.effecteur_id)
    assert effecteur is not None
    booking = Booking(
        slot_id=slot.id,
        effecteur_id=slot.effecteur_id,
        appointment_at=slot.start,
        consultation_type=slot.consultation_type,
        dossier_id=dossier_id,
        booked_by_id=user_id,
        created_at=now,
        snp=True,
        requires_call=False,
        comment=comment,
        agenda_status=PENDING,
        booking_page=page,
    )
    session.add(booking)
    session.flush()
    count = weekly_snp_count(session, effecteur.id, slot.start)
    return BookingOutcome(booking, slot, effecteur, count, [])


def held_at_editor(session: Session, slot_id: int, dossier_id: int) -> Booking | None:
    """The dossier's booking of this editor's slot still pending or confirmed, if any."""
    found: Booking | None = session.scalar(
        select(Booking)
        .where(
            Booking.dossier_id == dossier_id,
            Booking.slot_id == slot_id,
            Booking.agenda_status.in_((PENDING, BOOKED)),
            Booking.released_at.is_(None),
        )
        .order_by(Booking.created_at, Booking.id)
        .limit(1)
        .with_for_update()
    )
    return found


def at_editor_for_dossier(
    session: Session,
    slot_id: int,
    page: str,
    *,
    now: datetime,
    user_id: int | None,
    dossier_id: int,
    comment: str = "",
) -> tuple[BookingOutcome, bool]:
    """The editor's slot for a dossier the editor's way: its booking already made on the
    editor's page (pending or confirmed), else a new one pending; (outcome, made now).

    The call-back panel's accepted call on an editor's slot comes here, never to
    ``book_slot``: the places are the editor's, and a second booking beside the pending
    one would be confirmed by nobody.
    """
    held = held_at_editor(session, slot_id, dossier_id)
    if held is None:
        o = book_at_editor(
            session, slot_id, page, now=now, user_id=user_id, dossier_id=dossier_id, comment=comment
        )
        return o, True
    slot = session.get(Slot, slot_id)
    effecteur = session.get(Effecteur, held.effecteur_id)
    assert effecteur is not None
    count = weekly_snp_count(session, effecteur.id, held.appointment_at)
    return BookingOutcome(held, slot, effecteur, count, []), False


def confirm_pending(
    session: Session, *, effecteur_id: int, start: datetime, regulator_id: str, national: bool
) -> Booking | None:
    """The oldest pending booking this appointment confirms, marked booked; else None.

    It must name the same doctor and start, and the regulator who booked: the account
    whose national identifier the appointment's operator carries, or for an OSNP or an
    ARM (no national one) the platform's identifier the account carries.
    """
    same = User.platform_id == regulator_id
    if national:
        same = or_(User.national_id == regulator_id, same)
    booking = session.scalar(
        select(Booking)
        .join(User, User.id == Booking.booked_by_id)
        .where(
            Booking.agenda_status == PENDING,
            Booking.released_at.is_(None),
            Booking.effecteur_id == effecteur_id,
            Booking.appointment_at == start,
            same,
        )
        .order_by(Booking.created_at, Booking.id)
        .limit(1)
        .with_for_update()
    )
    if booking is not None:
        booking.agenda_status = BOOKED
    return booking


def cancel_at_editor(session: Session, booking: Booking, *, now: datetime) -> bool:
    """The editor cancelled: free the booking (no place of ours to give back)."""
    if booking.released_at is not None:
        return False
    booking.released_at = now
    booking.release_reason = "annulé dans l'agenda du médecin"
    booking.agenda_status = CANCELLED
    return True


def overdue(session: Session, *, now: datetime, delay: timedelta) -> list[Booking]:
    """Pending bookings older than ``delay`` whose OSNP was not told yet."""
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.agenda_status == PENDING,
                Booking.released_at.is_(None),
                Booking.reminded_at.is_(None),
                Booking.created_at <= now - delay,
            )
            .order_by(Booking.created_at, Booking.id)
            .with_for_update(skip_locked=True)
        )
    )


def next_due(session: Session, *, delay: timedelta) -> list[datetime]:
    """When each booking still pending and not yet reminded will be overdue."""
    return [
        created + delay
        for created in session.scalars(
            select(Booking.created_at).where(
                Booking.agenda_status == PENDING,
                Booking.released_at.is_(None),
                Booking.reminded_at.is_(None),
            )
        )
    ]
