"""The endpoint's sink on a running hub: each feedback one unit of work on the writer.

The appointment, its journal line and its event (``appointment.received`` when
created, ``appointment.updated`` when it changed) commit together, and the event
reaches the desks only after COMMIT. A replay changes nothing and tells nobody. A
refused feedback leaves nothing but its journal line and ``appointment.refused``, to
the supervisors only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.appointments.board import auto_attach
from app.appointments.endpoint import Applied
from app.appointments.fhir import FhirAppointment, Issue, Refused
from app.appointments.followup import follow_up
from app.appointments.models import Appointment
from app.appointments.store import journal_refused, record
from app.appointments.views import (
    appointment_audience,
    appointment_view,
    refusal_audience,
    regulator_account,
)
from app.directory.booking import BookingOutcome, weekly_snp_count
from app.directory.editor_booking import BOOKED
from app.directory.hub import booking_view, directory_audience, emit_agenda_booking, slot_view
from app.directory.models import Booking, Effecteur, Slot
from app.hub.context import HubContext
from app.hub.events import EventName
from app.hub.service import HubService, Outgoing, Unit

Target = tuple[str | None, str] | None


def announce(
    u: Unit,
    row: Appointment,
    outcome: str,
    previous: str | None,
    *,
    weekly_cap: int,
    moved_from: datetime | None = None,
) -> None:
    """``appointment.received`` (created) or ``appointment.updated``, in the unit of work
    that changed it: to the followers and the regulator's own account. A created one
    attaches by itself when its regulator has exactly one dossier waiting (board.py),
    whether an editor or the national platform sent it. ``booked`` confirms, a fate
    (fulfilled, noshow, cancelled) closes, the call-back follow-up waiting for it, and a
    move (``moved_from``, the start before this update) moves it (followup.py;
    ``weekly_cap`` for the ``slot.released`` of a place it gives back)."""
    account = regulator_account(u.s, row)
    name = EventName.APPOINTMENT_RECEIVED if outcome == "created" else EventName.APPOINTMENT_UPDATED
    u.emit(
        name,
        appointment_audience(account),
        appointment=appointment_view(u.s, row, account),
        previous_status=previous,
    )
    if outcome == "created":
        auto_attach(u, row)
    follow_up(u, row, weekly_cap=weekly_cap, moved_from=moved_from)


class HubSink:
    """The endpoint's sink on a running hub: the writer, one unit of work per feedback."""

    def __init__(self, hub: HubContext):
        self.hub = hub
        self.service: HubService = hub.service

    async def create(self, appointment: FhirAppointment, editor: str) -> Applied:
        return await self._apply(appointment, editor, None)

    async def update(
        self, target: tuple[str | None, str], appointment: FhirAppointment, editor: str
    ) -> Applied:
        return await self._apply(appointment, editor, target)

    async def refused(
        self, sender: str, identifier: str, answer: int, issues: Sequence[Issue]
    ) -> None:
        events = await self.hub.run_in_writer(self._refused, sender, identifier, answer, issues)
        self.hub.broadcast(events)

    async def _apply(self, a: FhirAppointment, editor: str, target: Target) -> Applied:
        outcome, events = await self.hub.run_in_writer(self._write, a, editor, target)
        self.hub.broadcast(events)
        if isinstance(outcome, Refused):
            raise outcome  # the endpoint answers it
        return outcome

    # -- the writer thread -----------------------------------------------------------

    def _write(
        self, a: FhirAppointment, editor: str, target: Target
    ) -> tuple[Applied | Refused, list[Outgoing]]:
        try:
            return self.service.run_unit(lambda u: self._record(u, a, editor, target))
        except Refused as refused:  # rolled back: only the refusal is written
            events = self._refused(editor, a.identifier, refused.status, refused.issues)
            return refused, events

    def _record(self, u: Unit, a: FhirAppointment, editor: str, target: Target) -> Applied:
        received = record(u.s, a, editor, target)
        if received.booking_id is not None:
            self._booking_changed(u, received.booking_id)
        if received.outcome != "replayed":
            row = u.s.get(Appointment, received.appointment_id)
            assert row is not None
            previous = received.previous.value if received.previous else None
            cap = self.service.settings.targets.weekly_snp_cap
            announce(
                u, row, received.outcome, previous, weekly_cap=cap, moved_from=received.moved_from
            )
        return received.applied

    def _booking_changed(self, u: Unit, booking_id: int) -> None:
        """A booking made at the editor's page, confirmed or freed by its appointment:
        the dossier's desks are told, and the directory's (booked / released)."""
        booking = u.s.get(Booking, booking_id)
        assert booking is not None
        slot = u.s.get(Slot, booking.slot_id) if booking.slot_id is not None else None
        effecteur = u.s.get(Effecteur, booking.effecteur_id)
        assert effecteur is not None
        weekly = weekly_snp_count(u.s, effecteur.id, booking.appointment_at)
        o = BookingOutcome(booking, slot, effecteur, weekly, [])
        emit_agenda_booking(u, o)
        cap = self.service.settings.targets.weekly_snp_cap
        u.emit(
            EventName.SLOT_BOOKED if booking.agenda_status == BOOKED else EventName.SLOT_RELEASED,
            directory_audience(),
            booking=booking_view(o),
            slot=slot_view(slot) if slot is not None else None,
            weekly_snp=weekly,
            weekly_cap=cap,
        )

    def _refused(
        self, sender: str, identifier: str, answer: int, issues: Sequence[Issue]
    ) -> list[Outgoing]:
        def work(u: Unit) -> None:
            journal_refused(u.s, sender, identifier, answer, issues)
            u.emit(
                EventName.APPOINTMENT_REFUSED,
                refusal_audience(),
                sender=sender,
                identifier=identifier,
                answer=answer,
                issues=[i.as_fhir() for i in issues],
            )

        return self.service.run_unit(work)[1]
