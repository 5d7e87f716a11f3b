"""What an editor's appointment feedback changes, in one transaction, and its journal.

The identifier is the editor's own (the guide: "les échanges s'appuieront sur cet ID"):
a POST of an identifier already known is a replay when nothing differs (answered 200,
nothing written but the journal), a PUT of an unknown one creates it (FHIR's
conditional update). A fate once known is final. Every message is journalled, a refused
one in a transaction of its own, so the supervisor sees it and nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.endpoint import Applied
from app.appointments.fhir import (
    AppointmentStatus,
    FhirAppointment,
    Issue,
    Refused,
    refuse_transition,
)
from app.appointments.models import Appointment, AppointmentMessage
from app.db.types import utcnow
from app.directory.editor_booking import cancel_at_editor, confirm_pending
from app.directory.models import Booking, Effecteur

EDITOR = "editor"


@dataclass(frozen=True)
class Received:
    """One feedback applied: what the endpoint answers and what the desks are told."""

    appointment_id: int
    #: created, updated or replayed (a replay changed nothing).
    outcome: str
    status: AppointmentStatus
    previous: AppointmentStatus | None
    #: The booking made at the editor's page this appointment confirmed or freed.
    booking_id: int | None = None
    #: The start before this update when the editor moved the appointment, else None.
    moved_from: datetime | None = None

    @property
    def applied(self) -> Applied:
        return Applied(str(self.appointment_id), created=self.outcome == "created")


def _fields(a: FhirAppointment, effecteur_id: int) -> dict[str, Any]:
    return {
        "status": a.status.value,
        "start": a.start,
        "end": a.end,
        "regulator_id": a.regulator.value,
        "regulator_national": a.regulator.national,
        "effecteur_national_id": a.effecteur_national_id,
        "effecteur_id": effecteur_id,
    }


def _effecteur_id(s: Session, a: FhirAppointment) -> int:
    found = s.scalar(select(Effecteur.id).where(Effecteur.rpps == a.rpps)) if a.rpps else None
    if found is None:
        raise Refused(
            422,
            [
                Issue(
                    "business-rule",
                    "Appointment.participant.actor.identifier.value",
                    f"professionnel {a.effecteur_national_id} inconnu de l'annuaire de ce SAMU",
                )
            ],
        )
    return int(found)


def apply_feedback(
    s: Session,
    a: FhirAppointment,
    sender: str,
    *,
    target: tuple[str | None, str] | None = None,
    now: datetime | None = None,
) -> Received:
    """Apply one checked appointment in the caller's transaction; raise Refused."""
    now = now or utcnow()
    if target is not None:
        system, value = target
        if value != a.identifier or (system is not None and system != a.identifier_system):
            raise Refused(
                400,
                [
                    Issue(
                        "invalid",
                        "Appointment.identifier",
                        f"l'identifiant du corps ({a.identifier}) n'est pas celui de la requête "
                        f"({value})",
                    )
                ],
            )
    effecteur_id = _effecteur_id(s, a)
    row = s.scalar(
        select(Appointment)
        .where(
            Appointment.source == EDITOR,
            Appointment.identifier_system == a.identifier_system,
            Appointment.identifier == a.identifier,
        )
        .with_for_update()
    )
    fields = _fields(a, effecteur_id)
    if row is None:
        row = Appointment(
            source=EDITOR,
            sender=sender,
            identifier_system=a.identifier_system,
            identifier=a.identifier,
            received_at=now,
            updated_at=now,
            version=1,
            **fields,
        )
        s.add(row)
        s.flush()
        return Received(row.id, "created", a.status, None, _settle_booking(s, row, now))
    if row.sender != sender:
        # Another editor's identifier space: refused without saying what it holds.
        raise Refused(
            422,
            [Issue("business-rule", "Appointment.identifier", "identifiant déjà employé")],
        )
    previous = AppointmentStatus(row.status)
    if all(getattr(row, k) == v for k, v in fields.items()):
        return Received(row.id, "replayed", previous, previous)
    refused = refuse_transition(previous, a.status)
    if refused is not None:
        raise Refused(422, [refused])
    moved_from = row.start if row.start != a.start else None
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = now
    row.version += 1
    settled = _settle_booking(s, row, now)
    return Received(row.id, "updated", a.status, previous, settled, moved_from)


def _settle_booking(s: Session, row: Appointment, now: datetime) -> int | None:
    """The pending booking this appointment confirms (``booked``) or frees
    (``cancelled``), changed in the same transaction; its id, else None.

    A ``booked`` confirms the oldest pending booking with the same doctor and start whose
    booker's account carries the appointment's regulator (its national identifier, or the
    platform's identifier of an OSNP or an ARM): the
    appointment then belongs to that booking's dossier.
    """
    if row.status == AppointmentStatus.BOOKED and row.booking_id is None:
        if not row.regulator_id or row.effecteur_id is None:
            return None
        booking = confirm_pending(
            s,
            effecteur_id=row.effecteur_id,
            start=row.start,
            regulator_id=row.regulator_id,
            national=row.regulator_national,
        )
        if booking is None:
            return None
        row.booking_id, row.dossier_id = booking.id, booking.dossier_id
        return booking.id
    if row.status == AppointmentStatus.CANCELLED and row.booking_id is not None:
        booking = s.get(Booking, row.booking_id)
        if booking is not None and booking.agenda_status and cancel_at_editor(s, booking, now=now):
            return booking.id
    return None


def journal(
    s: Session,
    *,
    sender: str,
    identifier: str,
    answer: int,
    outcome: str,
    issues: Sequence[Issue] = (),
    appointment_id: int | None = None,
    source: str = EDITOR,
    detail: str = "",
) -> None:
    s.add(
        AppointmentMessage(
            source=source,
            sender=sender,
            identifier=identifier,
            answer=answer,
            outcome=outcome,
            issues=[i.as_fhir() for i in issues],
            appointment_id=appointment_id,
            detail=detail,
        )
    )


def record(
    s: Session, a: FhirAppointment, sender: str, target: tuple[str | None, str] | None
) -> Received:
    """Apply one feedback and journal it, in the caller's transaction; raise Refused."""
    received = apply_feedback(s, a, sender, target=target)
    journal(
        s,
        sender=sender,
        identifier=a.identifier,
        answer=201 if received.outcome == "created" else 200,
        outcome=received.outcome,
        appointment_id=received.appointment_id,
    )
    return received


def journal_refused(
    s: Session, sender: str, identifier: str, answer: int, issues: Sequence[Issue]
) -> None:
    """A refusal, journalled in a transaction of its own: the refused change left nothing."""
    journal(
        s, sender=sender, identifier=identifier, answer=answer, outcome="refused", issues=issues
    )


class StoreSink:
    """The endpoint's sink on a database: each feedback one transaction, off the loop.

    ``on_applied`` is called after COMMIT with what changed (the hub tells the desks).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_applied: Callable[[Received], None] | None = None,
    ):
        self.sessions = sessions
        self.on_applied = on_applied

    async def create(self, appointment: FhirAppointment, editor: str) -> Applied:
        return await asyncio.to_thread(self._apply, appointment, editor, None)

    async def update(
        self, target: tuple[str | None, str], appointment: FhirAppointment, editor: str
    ) -> Applied:
        return await asyncio.to_thread(self._apply, appointment, editor, target)

    def _apply(
        self, a: FhirAppointment, editor: str, target: tuple[str | None, str] | None
    ) -> Applied:
        try:
            with self.sessions.begin() as s:
                received = record(s, a, editor, target)
        except Refused as refused:
            self._refused(editor, a.identifier, refused.status, refused.issues)
            raise
        if self.on_applied is not None and received.outcome != "replayed":
            self.on_applied(received)
        return received.applied

    async def refused(
        self, sender: str, identifier: str, answer: int, issues: Sequence[Issue]
    ) -> None:
        await asyncio.to_thread(self._refused, sender, identifier, answer, issues)

    def _refused(self, sender: str, identifier: str, answer: int, issues: Sequence[Issue]) -> None:
        with self.sessions.begin() as s:
            journal_refused(s, sender, identifier, answer, issues)
