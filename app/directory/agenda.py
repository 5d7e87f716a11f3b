"""The manual agenda of the CPTS structure manager: slots, ranges, weekly recurrence,
unavailability periods. Every change stamps the directory revision (models.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.directory.freetext import WeeklyRule, occurrences
from app.directory.models import (
    Effecteur,
    Practice,
    RecurringAvailability,
    Slot,
    Unavailability,
    bump_revision,
)
from app.directory.vocab import HORIZON, MAX_CAPACITY, MAX_WEEKS, Visibility
from app.domain.enums import ConsultationType
from app.domain.rules import FlowError

__all__ = ["MAX_CAPACITY", "MAX_WEEKS"]  # their home is app.directory.vocab (the wire needs them)


def _effecteur(session: Session, effecteur_id: int) -> Effecteur:
    e = session.get(Effecteur, effecteur_id)
    if e is None:
        raise FlowError("not_found", f"effecteur {effecteur_id} introuvable")
    return e


def check_slot_fields(start: datetime, end: datetime, capacity: int) -> None:
    if end <= start:
        raise FlowError("invalid_message", "la fin du créneau doit suivre son début")
    if end - start > timedelta(hours=14):
        raise FlowError("invalid_message", "un créneau ou une plage dure au plus 14 h")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise FlowError("invalid_message", f"capacité entre 1 et {MAX_CAPACITY} patients")


def create_slots(
    session: Session,
    effecteur_id: int,
    start: datetime,
    end: datetime,
    *,
    consultation_type: str = ConsultationType.CABINET,
    capacity: int = 1,
    visibility: str = Visibility.SNP,
    weeks: int = 1,
    practice_id: int | None = None,
    comment: str = "",
    source: str = "manual",
) -> list[Slot]:
    """A slot (capacity 1) or a range (capacity N), repeated ``weeks`` weeks in a row."""
    check_slot_fields(start, end, capacity)
    if not 1 <= weeks <= MAX_WEEKS:
        raise FlowError("invalid_message", f"récurrence hebdomadaire de 1 à {MAX_WEEKS} semaines")
    rev = bump_revision(session)
    e = _effecteur(session, effecteur_id)
    if practice_id is None and e.practices:
        practice_id = e.practices[0].id
    elif practice_id is not None and session.get(Practice, practice_id) is None:
        raise FlowError("not_found", f"lieu d'exercice {practice_id} introuvable")
    slots = []
    for week in range(weeks):
        shift = timedelta(weeks=week)
        slots.append(
            Slot(
                effecteur_id=e.id,
                practice_id=practice_id,
                start=start + shift,
                end=end + shift,
                consultation_type=str(consultation_type),
                capacity=capacity,
                booked=0,
                is_range=capacity > 1,
                visibility=str(visibility),
                source=source,
                status="open",
                comment=comment,
                rev=rev,
            )
        )
    session.add_all(slots)
    session.flush()
    return slots


def update_slot(
    session: Session,
    slot_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    capacity: int | None = None,
    consultation_type: str | None = None,
    visibility: str | None = None,
) -> Slot:
    rev = bump_revision(session)
    slot = session.get(Slot, slot_id, populate_existing=True)
    if slot is None or slot.status != "open":
        raise FlowError("not_found", f"créneau {slot_id} introuvable")
    new_start, new_end = start or slot.start, end or slot.end
    new_capacity = capacity if capacity is not None else slot.capacity
    check_slot_fields(new_start, new_end, new_capacity)
    if slot.booked and (new_start != slot.start or new_end != slot.end):
        raise FlowError(
            "conflict",
            "des patients sont déjà réservés : annulez leurs "
            "réservations avant de déplacer le créneau",
        )
    if new_capacity < slot.booked:
        raise FlowError("conflict", f"{slot.booked} places déjà prises : capacité trop petite")
    slot.start, slot.end, slot.capacity = new_start, new_end, new_capacity
    slot.is_range = new_capacity > 1
    if consultation_type:
        slot.consultation_type = str(consultation_type)
    if visibility:
        slot.visibility = str(visibility)
    slot.rev = rev
    return slot


def cancel_slot(session: Session, slot_id: int) -> Slot:
    rev = bump_revision(session)
    slot = session.get(Slot, slot_id, populate_existing=True)
    if slot is None or slot.status != "open":
        raise FlowError("not_found", f"créneau {slot_id} introuvable")
    if slot.booked:
        raise FlowError(
            "conflict",
            f"{slot.booked} patient(s) déjà réservé(s) sur ce créneau : "
            "annulez leurs réservations d'abord",
        )
    slot.status = "cancelled"
    slot.rev = rev
    return slot


def add_unavailability(
    session: Session, effecteur_id: int, start: datetime, end: datetime, reason: str = ""
) -> Unavailability:
    if end <= start:
        raise FlowError("invalid_message", "la fin de l'indisponibilité doit suivre son début")
    rev = bump_revision(session)
    e = _effecteur(session, effecteur_id)
    e.rev = rev  # the index reloads this doctor's unavailabilities
    u = Unavailability(effecteur_id=e.id, start=start, end=end, reason=reason, rev=rev)
    session.add(u)
    session.flush()
    return u


def remove_unavailability(session: Session, unavailability_id: int) -> int:
    rev = bump_revision(session)
    u = session.get(Unavailability, unavailability_id)
    if u is None:
        raise FlowError("not_found", f"indisponibilité {unavailability_id} introuvable")
    e = _effecteur(session, u.effecteur_id)
    e.rev = rev
    session.delete(u)
    return e.id


def save_rules(
    session: Session, effecteur: Effecteur, rules: list[WeeklyRule], rev: int
) -> list[RecurringAvailability]:
    rows = [
        RecurringAvailability(
            effecteur_id=effecteur.id,
            weekdays=list(r.weekdays),
            start_minute=r.start_minute,
            end_minute=r.end_minute,
            consultation_type=str(r.consultation_type),
            capacity=r.capacity,
            slot_minutes=r.slot_minutes,
            every_other_week=r.every_other_week,
            source_text=r.source_text,
            rev=rev,
        )
        for r in rules
    ]
    session.add_all(rows)
    return rows


def rule_of(row: RecurringAvailability) -> WeeklyRule:
    return WeeklyRule(
        tuple(row.weekdays),
        row.start_minute,
        row.end_minute,
        ConsultationType(row.consultation_type),
        row.capacity,
        row.slot_minutes,
        row.every_other_week,
        row.source_text,
    )


def materialise_recurring(
    session: Session,
    since: datetime,
    until: datetime | None = None,
    *,
    visibility: str = Visibility.SNP,
) -> int:
    """Create the slots of every weekly availability over [since, until) (default 72 h).

    Idempotent: each occurrence has a stable ``source_ref`` (rule id and start), so
    running it every hour only adds the slots that came into the horizon.
    """
    until = until or since + HORIZON
    rev = bump_revision(session)
    existing = set(
        session.scalars(
            select(Slot.source_ref).where(
                Slot.source == "text", Slot.start >= since - timedelta(days=1)
            )
        )
    )
    added = 0
    rows = session.scalars(select(RecurringAvailability)).all()
    practices = {
        e: p
        for e, p in session.execute(
            select(Practice.effecteur_id, Practice.id).order_by(Practice.id.desc())
        )
    }
    for row in rows:
        for occ in occurrences(rule_of(row), since, until):
            ref = f"rule{row.id}@{occ.start:%Y%m%dT%H%M%SZ}"
            if ref in existing or occ.start < since:
                continue
            session.add(
                Slot(
                    effecteur_id=row.effecteur_id,
                    practice_id=practices.get(row.effecteur_id),
                    start=occ.start,
                    end=occ.end,
                    consultation_type=str(occ.consultation_type),
                    capacity=occ.capacity,
                    booked=0,
                    is_range=occ.capacity > 1,
                    visibility=str(visibility),
                    source="text",
                    source_ref=ref,
                    status="open",
                    rev=rev,
                )
            )
            existing.add(ref)
            added += 1
    session.flush()
    return added
