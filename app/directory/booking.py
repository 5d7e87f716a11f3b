"""Taking and giving back a place, safely across desks and hub processes.

The place is taken by one conditional UPDATE (``booked = booked + 1 WHERE booked <
capacity``) whose row count says whether it worked: the database, not the desk,
decides who got the last place, on SQLite (one writer at a time) as on PostgreSQL
(the row lock makes the second UPDATE re-check its WHERE after the first commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.directory.models import (
    Booking,
    Effecteur,
    Practice,
    Slot,
    Unavailability,
    bump_revision,
)
from app.directory.vocab import PARIS, WEEKLY_SNP_CAP, week_bounds
from app.domain.rules import FlowError


@dataclass
class BookingOutcome:
    booking: Booking
    slot: Slot | None
    effecteur: Effecteur
    weekly_snp: int
    warnings: list[str]


def hm(at: datetime) -> str:
    return at.astimezone(PARIS).strftime("%d/%m à %Hh%M")


def weekly_snp_count(session: Session, effecteur_id: int, at: datetime) -> int:
    """Regulated SNP patients booked with this doctor in the (Paris) week of ``at``."""
    start, end = week_bounds(at)
    return int(
        session.scalar(
            select(func.count(Booking.id)).where(
                Booking.effecteur_id == effecteur_id,
                Booking.snp.is_(True),
                Booking.released_at.is_(None),
                Booking.agenda_status != "pending",
                Booking.appointment_at >= start,
                Booking.appointment_at < end,
            )
        )
        or 0
    )


def weekly_snp_counts(session: Session, ids: list[int], at: datetime) -> dict[int, int]:
    if not ids:
        return {}
    start, end = week_bounds(at)
    rows = session.execute(
        select(Booking.effecteur_id, func.count(Booking.id))
        .where(
            Booking.effecteur_id.in_(ids),
            Booking.snp.is_(True),
            Booking.released_at.is_(None),
            Booking.agenda_status != "pending",
            Booking.appointment_at >= start,
            Booking.appointment_at < end,
        )
        .group_by(Booking.effecteur_id)
    )
    counts = {int(e): int(n) for e, n in rows}
    return {i: counts.get(i, 0) for i in ids}


def cap_warnings(count: int, cap: int = WEEKLY_SNP_CAP) -> list[str]:
    if count > cap:
        return [
            f"{count} patients SNP régulés cette semaine : au-delà de {cap}, "
            "la majoration SNP n'est plus versée au médecin (prévenez-le)"
        ]
    if count == cap:
        return [
            f"plafond hebdomadaire atteint : {cap} patients SNP régulés "
            "cette semaine pour ce médecin"
        ]
    return []


def _agenda_level(session: Session, effecteur: Effecteur, slot: Slot) -> str:
    """The agenda level where the slot is: its practice place's, else the doctor's."""
    place = session.get(Practice, slot.practice_id) if slot.practice_id else None
    return (place.agenda_level if place is not None else "") or effecteur.agenda_level


def book_slot(
    session: Session,
    slot_id: int,
    *,
    now: datetime,
    user_id: int | None,
    dossier_id: int | None = None,
    comment: str = "",
    snp: bool = True,
    weekly_cap: int = WEEKLY_SNP_CAP,
) -> BookingOutcome:
    """Take one place of a slot or range, or raise FlowError("conflict") in French."""
    rev = bump_revision(session)  # first: the directory's lock order (models.py)
    taken = session.execute(
        update(Slot)
        .where(
            Slot.id == slot_id,
            Slot.status == "open",
            Slot.booked < Slot.capacity,
            Slot.start >= now,
        )
        .values(booked=Slot.booked + 1, rev=rev)
        .execution_options(synchronize_session=False)
    )
    slot = session.get(Slot, slot_id, populate_existing=True)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        if slot is None:
            raise FlowError("not_found", f"créneau {slot_id} introuvable")
        when = hm(slot.start)
        if slot.status != "open":
            raise FlowError("conflict", f"le créneau du {when} a été supprimé de l'agenda")
        if slot.start < now:
            raise FlowError("conflict", f"le créneau du {when} est déjà passé")
        taken_text = f"{slot.booked}/{slot.capacity}" if slot.is_range else "pris"
        raise FlowError(
            "conflict",
            f"trop tard : le créneau du {when} vient d'être réservé par "
            f"un autre poste ({taken_text}). La liste est actualisée, choisissez "
            "un autre créneau.",
        )
    assert slot is not None
    clash = session.scalar(
        select(Unavailability).where(
            Unavailability.effecteur_id == slot.effecteur_id,
            Unavailability.start < slot.end,
            Unavailability.end > slot.start,
        )
    )
    if clash is not None:
        raise FlowError(
            "conflict",
            f"le médecin est indisponible le {hm(slot.start)}"
            + (f" ({clash.reason})" if clash.reason else ""),
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
        snp=snp,
        requires_call=_agenda_level(session, effecteur, slot) != "end_to_end",
        comment=comment,
    )
    session.add(booking)
    session.flush()
    count = weekly_snp_count(session, effecteur.id, slot.start)
    warnings = cap_warnings(count, weekly_cap) if snp else []
    if booking.requires_call:
        phone = effecteur.phone_secretary or effecteur.phone_direct
        warnings.append(
            f"agenda non interfacé de bout en bout : appelez le cabinet "
            f"({phone}) pour confirmer le rendez-vous"
        )
    return BookingOutcome(booking, slot, effecteur, count, warnings)


def book_beyond_slots(
    session: Session,
    effecteur_id: int,
    at: datetime,
    *,
    now: datetime,
    user_id: int | None,
    consultation_type: str = "cabinet",
    dossier_id: int | None = None,
    comment: str = "",
    weekly_cap: int = WEEKLY_SNP_CAP,
) -> BookingOutcome:
    """Record a patient the doctor accepted beyond published slots (after a phone call)."""
    bump_revision(session)
    effecteur = session.get(Effecteur, effecteur_id)
    if effecteur is None or not effecteur.active:
        raise FlowError("not_found", f"effecteur {effecteur_id} introuvable")
    if at <= now:
        raise FlowError("invalid_message", "l'heure du rendez-vous doit être à venir")
    booking = Booking(
        slot_id=None,
        effecteur_id=effecteur_id,
        appointment_at=at,
        consultation_type=consultation_type,
        dossier_id=dossier_id,
        booked_by_id=user_id,
        created_at=now,
        snp=True,
        requires_call=False,
        comment=comment,
    )
    session.add(booking)
    session.flush()
    count = weekly_snp_count(session, effecteur_id, at)
    return BookingOutcome(booking, None, effecteur, count, cap_warnings(count, weekly_cap))


def release_booking(
    session: Session, booking_id: int, *, now: datetime, reason: str = ""
) -> BookingOutcome:
    """Give the place back (patient cancelled, doctor refused on the phone…)."""
    rev = bump_revision(session)
    booking = session.get(Booking, booking_id, populate_existing=True)
    if booking is None:
        raise FlowError("not_found", f"réservation {booking_id} introuvable")
    released = session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.released_at.is_(None))
        .values(released_at=now, release_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if released.rowcount != 1:  # type: ignore[attr-defined]
        raise FlowError("invalid_state", "cette réservation est déjà annulée")
    slot = None
    at_editor = bool(booking.agenda_status)
    if not at_editor and booking.slot_id is not None:
        session.execute(
            update(Slot)
            .where(Slot.id == booking.slot_id, Slot.booked > 0)
            .values(booked=Slot.booked - 1, rev=rev)
            .execution_options(synchronize_session=False)
        )
        slot = session.get(Slot, booking.slot_id, populate_existing=True)
    session.refresh(booking)
    if at_editor:  # booked at the editor: no place of ours was taken, none given back
        booking.agenda_status = "cancelled"
        slot = session.get(Slot, booking.slot_id) if booking.slot_id is not None else None
    effecteur = session.get(Effecteur, booking.effecteur_id)
    assert effecteur is not None
    count = weekly_snp_count(session, effecteur.id, booking.appointment_at)
    return BookingOutcome(booking, slot, effecteur, count, [])
