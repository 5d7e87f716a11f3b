"""What a call gave: the attempt, the target's new state, a retry, an appointment.

Pure database work on the caller's session (the hub's unit of work): the hub handler
adds the events and closes the task in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callback.models import Appointment, CallbackAttempt, CallbackTarget, Reminder
from app.callback.settings import Settings
from app.callback.vocab import (
    APPOINTMENT_MOVES,
    OUTCOME_OF_KIND,
    AppointmentStatus,
    AttemptResult,
    RefusalReason,
    ReminderKind,
    TargetKind,
    TargetStatus,
)
from app.db.models import OsnpTask
from app.directory.booking import BookingOutcome, book_beyond_slots, book_slot
from app.directory.booking_page import booking_page
from app.directory.editor_booking import BOOKED as BOOKED_AT_EDITOR
from app.directory.editor_booking import at_editor_for_dossier
from app.directory.models import Slot
from app.directory.vocab import PARIS
from app.domain.enums import ConsultationType, NoSolutionReason
from app.domain.rules import FlowError


@dataclass
class AttemptInput:
    result: AttemptResult
    number: str = ""
    call_ref: str = ""
    duration_seconds: float | None = None
    recording_path: str = ""
    refusal_reason: RefusalReason | None = None
    call_back_at: datetime | None = None
    retry_at: datetime | None = None
    note: str = ""
    # accepted:
    at: datetime | None = None
    place: str = ""
    consultation_type: ConsultationType | None = None
    regulator_decision: str = ""  # URGENCES: the regulating doctor who decided


@dataclass
class AttemptOutcome:
    attempt: CallbackAttempt
    target: CallbackTarget
    reminder: Reminder | None = None
    appointment: Appointment | None = None
    booking: BookingOutcome | None = None
    #: The booking was made just now on an editor's page (pending until it confirms).
    booking_at_editor: bool = False
    no_solution: NoSolutionReason | None = None  # PDSA / URGENCES: the task ends without RDV
    warnings: list[str] = field(default_factory=list)


def _when(at: datetime) -> str:
    return at.astimezone(PARIS).strftime("%d/%m à %Hh%M")


def record_attempt(
    session: Session,
    task: OsnpTask,
    target: CallbackTarget,
    x: AttemptInput,
    now: datetime,
    user_id: int | None,
    settings: Settings,
    regulated_at: datetime,
) -> AttemptOutcome:
    if not TargetStatus(target.status).is_open:
        raise FlowError(
            "invalid_state",
            f"{target.name} : cible déjà traitée ({TargetStatus(target.status).label})",
        )
    attempt = CallbackAttempt(
        task_id=task.id,
        target_id=target.id,
        by_id=user_id,
        at=now,
        number=x.number,
        call_ref=x.call_ref,
        duration_seconds=x.duration_seconds,
        recording_path=x.recording_path,
        result=str(x.result),
        note=x.note,
    )
    out = AttemptOutcome(attempt, target)
    kind = TargetKind(target.kind)
    # A new call to this target supersedes the retry planned by the previous one.
    for pending in session.scalars(
        select(Reminder).where(
            Reminder.target_id == target.id,
            Reminder.fired_at.is_(None),
            Reminder.cancelled_at.is_(None),
        )
    ):
        pending.cancelled_at = now
    if x.result is AttemptResult.REFUSED:
        if x.refusal_reason is None:
            raise FlowError("invalid_message", "refus : précisez la raison")
        attempt.refusal_reason = str(x.refusal_reason)
        target.status = str(TargetStatus.REFUSED)
        target.retry_at = None
    elif x.result.plans_retry:
        due = x.retry_at or now + settings.retry_delay
        if due <= now:
            raise FlowError("invalid_message", "l'heure du nouvel essai doit être à venir")
        target.status = str(TargetStatus.RETRY)
        target.retry_at = due
        out.reminder = _retry(task, target, x.result, due, user_id, now)
    elif x.result is AttemptResult.CALL_BACK:
        if x.call_back_at is None or x.call_back_at <= now:
            raise FlowError("invalid_message", "rappel demandé : indiquez une heure à venir")
        attempt.call_back_at = x.call_back_at
        target.status = str(TargetStatus.CALL_BACK)
        target.retry_at = x.call_back_at
        out.reminder = _retry(task, target, x.result, x.call_back_at, user_id, now)
        if x.call_back_at > task.deadline_at:
            out.warnings.append(
                f"le rappel ({_when(x.call_back_at)}) tombe après l'échéance "
                f"de 48 h ({_when(task.deadline_at)})"
            )
    else:
        _accept(session, task, target, kind, x, now, user_id, settings, regulated_at, out)
    session.add(attempt)
    if out.reminder is not None:
        session.add(out.reminder)
    session.flush()
    return out


def _retry(
    task: OsnpTask,
    target: CallbackTarget,
    result: AttemptResult,
    due: datetime,
    user_id: int | None,
    now: datetime,
) -> Reminder:
    """The reminder to call the target again at ``due`` (no answer, busy, or the time
    the target asked to be called back at)."""
    return Reminder(
        kind=str(ReminderKind.RETRY),
        task_id=task.id,
        target_id=target.id,
        user_id=user_id,
        due_at=due,
        created_at=now,
        data={"result": str(result)},
    )


def _accept(
    session: Session,
    task: OsnpTask,
    target: CallbackTarget,
    kind: TargetKind,
    x: AttemptInput,
    now: datetime,
    user_id: int | None,
    settings: Settings,
    regulated_at: datetime,
    out: AttemptOutcome,
) -> None:
    target.status = str(TargetStatus.ACCEPTED)
    target.retry_at = None
    if kind is TargetKind.PDSA:
        if not settings.pdsa_active(now):
            raise FlowError(
                "invalid_state",
                f"la PDSA prend le relais à partir de "
                f"{settings.pdsa_start:%Hh%M} : continuez la recherche d'ici là",
            )
        out.no_solution = NoSolutionReason.REORIENTE_PDSA
        return
    if kind is TargetKind.URGENCES:
        if not x.regulator_decision.strip():
            raise FlowError(
                "invalid_message",
                "orientation vers les urgences : indiquez le médecin régulateur qui l'a décidée",
            )
        out.no_solution = NoSolutionReason.REORIENTE_URGENCES
        return
    at = x.at or (target.slot_start if kind is TargetKind.CRENEAU else None)
    if at is None:
        raise FlowError("invalid_message", "RDV accepté : indiquez la date et l'heure")
    if at <= now:
        raise FlowError("invalid_message", "l'heure du rendez-vous doit être à venir")
    ctype = x.consultation_type or (
        ConsultationType(target.slot_type)
        if target.slot_type and at == target.slot_start
        else ConsultationType(task.consultation_type)
    )
    place = x.place or target.place
    if ctype is ConsultationType.VISITE:
        place = x.place or task.dossier.address or "au domicile du patient"
    if at > task.deadline_at:
        out.warnings.append(
            f"RDV le {_when(at)}, après l'échéance de 48 h ({_when(task.deadline_at)})"
        )
    booking, status = None, AppointmentStatus.BOOKED
    if target.effecteur_id is not None and kind is not TargetKind.MT:
        booking, status = _book(session, task, target, kind, x, at, ctype, now, user_id,
                                settings, out)  # fmt: skip
    out.booking = booking
    outcome = OUTCOME_OF_KIND[kind]
    out.appointment = Appointment(
        task_id=task.id,
        dossier_id=task.dossier_id,
        target_id=target.id,
        effecteur_id=target.effecteur_id,
        booking_id=booking.booking.id if booking else None,
        outcome=str(outcome),
        doctor_name=target.name,
        is_treating_doctor=kind is TargetKind.MT,
        at=at,
        place=place,
        consultation_type=str(ctype),
        status=str(status),
        status_at=now,
        regulated_at=regulated_at,
        created_at=now,
        note=x.note,
    )
    session.add(out.appointment)


def _book(
    session: Session,
    task: OsnpTask,
    target: CallbackTarget,
    kind: TargetKind,
    x: AttemptInput,
    at: datetime,
    ctype: ConsultationType,
    now: datetime,
    user_id: int | None,
    settings: Settings,
    out: AttemptOutcome,
) -> tuple[BookingOutcome, AppointmentStatus]:
    """The place taken for an accepted appointment with a directory's doctor: the
    editor's slot (booked on its page, confirmed by the editor), one of ours, or beyond
    the published slots; the appointment's status (confirmed when the editor says so)."""
    assert target.effecteur_id is not None
    status = AppointmentStatus.BOOKED
    slot_id = target.slot_id if kind is TargetKind.CRENEAU else None
    on_slot = slot_id is not None and at == target.slot_start
    page = _editor_page(session, slot_id) if on_slot else None
    if slot_id is not None and on_slot and page is not None:
        # The editor's slot: its places are the editor's; the booking is the one made
        # on its page (or made pending now), confirmed by the editor, never ours.
        booking, out.booking_at_editor = at_editor_for_dossier(
            session,
            slot_id,
            page,
            now=now,
            user_id=user_id,
            dossier_id=task.dossier_id,
            comment=x.note,
        )
        agenda = booking.booking.agenda_status
        if agenda == BOOKED_AT_EDITOR:
            status = AppointmentStatus.CONFIRMED
        elif out.booking_at_editor:
            out.warnings.append(
                "agenda interfacé : réservez sur la page de l'éditeur, le RDV reste "
                "en attente de l'agenda jusqu'à sa confirmation"
            )
        else:
            out.warnings.append("RDV en attente de l'agenda (réservé sur la page de l'éditeur)")
    elif slot_id is not None and on_slot:
        booking = book_slot(
            session,
            slot_id,
            now=now,
            user_id=user_id,
            dossier_id=task.dossier_id,
            comment=x.note,
            weekly_cap=settings.weekly_cap,
        )
    else:
        booking = book_beyond_slots(
            session,
            target.effecteur_id,
            at,
            now=now,
            user_id=user_id,
            consultation_type=str(ctype),
            dossier_id=task.dossier_id,
            comment=x.note,
            weekly_cap=settings.weekly_cap,
        )
    out.warnings.extend(w for w in booking.warnings if "appelez le cabinet" not in w)
    return booking, status


def _editor_page(session: Session, slot_id: int | None) -> str | None:
    """The booking page of an editor's slot (its comment), else None."""
    slot = session.get(Slot, slot_id) if slot_id is not None else None
    return booking_page(slot.comment) if slot is not None else None


def move_appointment(
    appointment: Appointment, to: AppointmentStatus, now: datetime, *, reported: bool = False
) -> None:
    """Move to ``to`` or raise FlowError. A fate the OSNP types waits for the appointment's
    time; one ``reported`` by the doctor's agenda does not (the agenda is the doctor's own
    record: a patient seen early is seen)."""
    current = AppointmentStatus(appointment.status)
    if to not in APPOINTMENT_MOVES[current]:
        raise FlowError(
            "invalid_state",
            f"le rendez-vous est « {current.label} » : il ne peut plus passer à « {to.label} »",
        )
    if (
        not reported
        and to in (AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW)
        and appointment.at > now
    ):
        raise FlowError("invalid_state", "le rendez-vous n'a pas encore eu lieu")
    appointment.status = str(to)
    appointment.status_at = now
