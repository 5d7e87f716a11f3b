"""How one event changes the facts: the single fold behind every fact row.

The projector (each unit of work's events, in the hub's transaction) and the rebuild
(the whole log, migration 0004 and ``sasdesk stats rebuild``) both call ``fold``, in
``seq`` order, so a fact kept up to date and a fact rebuilt cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from app.domain.professions import GENERAL_PRACTICE, MEDECIN
from app.hub.events import EventName
from app.stats.facts import (
    AgendaAppointmentFact,
    AppointmentFact,
    BookingFact,
    CallFact,
    DossierFact,
    FactSet,
    TaskFact,
    parse_instant,
)


class EventLike(Protocol):
    """An ``events`` row: the one a unit of work wrote (app.hub.service.WrittenEvent), or
    a row read back."""

    @property
    def seq(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def dossier_id(self) -> int | None: ...
    @property
    def task_id(self) -> int | None: ...
    @property
    def call_id(self) -> int | None: ...
    @property
    def data(self) -> dict[str, Any]: ...


def _call(f: FactSet, e: EventLike) -> None:
    d = e.data
    if e.type == EventName.CALL_OFFERED:
        if e.call_id is not None and e.call_id not in f.calls:  # a forked call is offered once
            offered = parse_instant(d.get("offered_at")) or e.at
            f.calls[e.call_id] = CallFact(e.call_id, offered, d.get("line") or "")
        return
    c = f.calls.get(e.call_id) if e.call_id is not None else None
    if c is None:
        return
    if e.type == EventName.CALL_ANSWERED:
        if c.answered_at is None:
            wait = d.get("wait_seconds")
            # wait_seconds is answered_at − offered_at by construction (app.hub.service).
            c.answered_at = c.offered_at + timedelta(seconds=wait) if wait is not None else e.at
            c.wait_seconds, c.answered_by = wait, e.actor_id
    elif e.type == EventName.CALL_ENDED and c.ended_at is None:
        # ended_at: the hub's clamped end, earlier than the event for a desk that
        # crashed mid-call and ended it at its next start (older events: the event's time).
        c.ended_at = parse_instant(d.get("ended_at")) or e.at
        c.abandoned = bool(d.get("abandoned")) and c.answered_at is None


def _dossier(f: FactSet, e: EventLike) -> None:
    if e.dossier_id is None:
        return
    d = e.data
    if e.type == EventName.DOSSIER_OPENED:
        f.dossiers[e.dossier_id] = DossierFact(
            e.dossier_id, e.at, d.get("line") or "", call_id=d.get("call_id")
        )
        return
    x = f.dossiers.get(e.dossier_id)
    if x is None:
        return
    if e.type == EventName.DOSSIER_UPDATED:
        fields = d.get("fields") or {}
        if fields.get("commune_insee") is not None:
            x.commune = fields["commune_insee"]
    elif e.type == EventName.DOSSIER_QUALIFIED:
        x.priority, x.track = d.get("priority"), d.get("track") or x.track
    elif e.type == EventName.DOSSIER_TRACK_MOVED:  # a move clears the decision, as the hub does
        x.track, x.decision, x.orientation = d.get("to_track"), None, None
        x.profession = x.specialty = None
        x.moves += 1
    elif e.type == EventName.DOSSIER_DECIDED:
        x.track = d.get("track") or x.track
        x.decision, x.orientation = d.get("decision"), d.get("orientation")
        x.profession = x.specialty = None
        if x.oriented_to_consultation:
            # Before migration 0019 a consultation named no profession: it was a GP's.
            if d.get("profession"):
                x.profession, x.specialty = d["profession"], d.get("specialty") or ""
            else:
                x.profession, x.specialty = MEDECIN, GENERAL_PRACTICE


def _task(f: FactSet, e: EventLike) -> None:
    if e.task_id is None:
        return
    d = e.data
    t = f.tasks.get(e.task_id)
    if t is None:  # its creation is not in the log (history cut): counts on its closing day
        t = f.tasks[e.task_id] = TaskFact(e.task_id, e.dossier_id or 0, None)
    if e.type == EventName.TASK_CREATED:
        t.created_at, t.deadline_at = e.at, parse_instant(d.get("deadline_at"))
    elif e.type == EventName.TASK_TAKEN:
        t.taken_at = e.at
    elif e.type == EventName.TASK_CANCELLED:
        t.cancelled, t.closed_at = True, e.at
    elif e.type == EventName.TASK_CLOSED:
        t.closed_at, t.outcome, t.no_solution_reason = (
            e.at,
            d.get("outcome"),
            d.get("no_solution_reason"),
        )
        t.appointment_at = parse_instant(d.get("appointment_at"))
        t.seconds_to_outcome = d.get("seconds_to_outcome")
    elif e.type == EventName.TASK_REOPENED:  # searching again: no outcome until it closes again
        t.taken_at, t.closed_at, t.cancelled, t.outcome = e.at, None, False, None
        t.no_solution_reason = t.appointment_at = t.seconds_to_outcome = None
        t.reopens += 1


def _booking(f: FactSet, e: EventLike) -> None:
    b = e.data.get("booking") or {}
    bid = b.get("id")
    if bid is None:
        return
    if e.type == EventName.SLOT_BOOKED:
        f.bookings[bid] = BookingFact(
            bid,
            b.get("effecteur_id") or 0,
            b.get("slot_id"),
            b.get("dossier_id"),
            parse_instant(b.get("appointment_at")) or e.at,
            e.at,
        )
    elif bid in f.bookings and f.bookings[bid].released_at is None:
        f.bookings[bid].released_at = e.at


def _appointment(f: FactSet, e: EventLike) -> None:
    d = e.data
    if e.type == EventName.CALLBACK_APPOINTMENT:
        ap = d.get("appointment") or {}
        aid = ap.get("id")
        if aid is not None:
            f.appointments[aid] = AppointmentFact(
                aid,
                e.task_id,
                e.dossier_id,
                d.get("outcome") or ap.get("outcome"),
                parse_instant(ap.get("at")),
                ap.get("status") or "BOOKED",
                e.at,
            )
        return
    aid = d.get("appointment_id")
    if aid is None:
        return
    a = f.appointments.get(aid)
    if a is None:  # its creation is not in the log
        a = f.appointments[aid] = AppointmentFact(
            aid, e.task_id, e.dossier_id, d.get("outcome"), None, "BOOKED", e.at
        )
    a.status, a.status_at = d.get("status") or a.status, e.at


def _agenda(f: FactSet, e: EventLike) -> None:
    """``appointment.received`` / ``updated`` / ``attached`` carry the appointment as it now
    stands (app.appointments.views): its fact follows it. An update may come before its
    creation (the platform's messages cross): the first event seen creates the fact."""
    ap = e.data.get("appointment") or {}
    aid = ap.get("id")
    start = parse_instant(ap.get("start"))
    if aid is None or start is None:
        return
    status = ap.get("status") or "booked"
    effecteur = (ap.get("effecteur") or {}).get("id")
    dossier = ap.get("dossier_id") or e.dossier_id
    a = f.agenda.get(aid)
    if a is None:
        f.agenda[aid] = AgendaAppointmentFact(
            aid, ap.get("source") or "", effecteur, dossier, start, e.at, status, e.at
        )
        return
    a.start, a.effecteur_id = start, effecteur if effecteur is not None else a.effecteur_id
    a.dossier_id = dossier if dossier is not None else a.dossier_id
    if status != a.status:
        a.status, a.status_at = status, e.at


_FOLDS: dict[str, Callable[[FactSet, EventLike], None]] = {
    EventName.CALL_OFFERED: _call,
    EventName.CALL_ANSWERED: _call,
    EventName.CALL_ENDED: _call,
    EventName.DOSSIER_OPENED: _dossier,
    EventName.DOSSIER_UPDATED: _dossier,
    EventName.DOSSIER_QUALIFIED: _dossier,
    EventName.DOSSIER_TRACK_MOVED: _dossier,
    EventName.DOSSIER_DECIDED: _dossier,
    EventName.TASK_CREATED: _task,
    EventName.TASK_TAKEN: _task,
    EventName.TASK_CANCELLED: _task,
    EventName.TASK_CLOSED: _task,
    EventName.TASK_REOPENED: _task,
    EventName.SLOT_BOOKED: _booking,
    EventName.SLOT_RELEASED: _booking,
    EventName.CALLBACK_APPOINTMENT: _appointment,
    EventName.CALLBACK_APPOINTMENT_STATUS: _appointment,
    EventName.APPOINTMENT_RECEIVED: _agenda,
    EventName.APPOINTMENT_UPDATED: _agenda,
    EventName.APPOINTMENT_ATTACHED: _agenda,
}

#: The event types that change a fact; the others are not read.
FACT_EVENT_TYPES: tuple[str, ...] = tuple(_FOLDS)


def fold(facts: FactSet, event: EventLike) -> None:
    """Apply one event to the facts (events must come in ``seq`` order)."""
    apply = _FOLDS.get(event.type)
    if apply is not None:
        apply(facts, event)
