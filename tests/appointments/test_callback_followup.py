"""An agenda's fate closes the call-back follow-up waiting for it, on a real hub.

The OSNP phoned Dr Claire Martin and booked her published slot (``callback.attempt``
ACCEPTED: a call-back appointment BOOKED, the directory's place taken, the task closed);
the doctor's agenda editor reports the same appointment over mutual TLS, and later its
fate. ``fulfilled`` / ``noshow`` / ``cancelled`` move the call-back appointment to
HONOURED / NO_SHOW / CANCELLED with the event the OSNP's own intent sends (no actor, a
note naming the agenda), which the OSNP's desk receives and the statistics fold; a
cancellation gives the place back once. No match, or two of the agenda's appointments
that could be it, and nothing moves.

The call-back flow runs on a second service over the same database with a clock a day
back (the hub's clock is the real one): the appointment it books is over by the time
the editor reports its fate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.models import Appointment as AgendaAppointment
from app.appointments.protocol import AppointmentAttach, AppointmentBoard
from app.callback.models import Appointment
from app.db.models import Event, OsnpTask, User
from app.directory.editor_booking import book_at_editor
from app.directory.models import Booking, Effecteur, Practice, Slot, bump_revision
from app.hub.auth import Principal
from app.hub.service import HubService
from app.room import install_all
from app.stats.models import StatAppointment
from tests.appointments.test_board import fold_statistics
from tests.appointments.test_hub_feedback import (
    EDITOR,
    MRL_ID,
    Room,
    appointment,
    assert_documented,
    query,
)
from tests.callback.conftest import Desks, FakeClock, osnp_task, plan
from tests.directory.builders import LA_ROCHELLE, slot
from tests.flow.flow_helpers import Actor
from tests.waits import until

#: The call-back flow's clock: yesterday, 09:00 in Paris.
T0 = (datetime.now(UTC) - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
NOTE = f"retour de l'agenda ({EDITOR.name})"


@dataclass
class Followed:
    """A call-back appointment made by phone, as the database holds it."""

    task_id: int
    dossier_id: int
    appointment_id: int
    booking_id: int
    slot_id: int
    start: datetime
    desks: Desks


def side_desks(sessions: sessionmaker[Session], people: dict[str, Principal]) -> Desks:
    service = HubService(sessions, clock=FakeClock(T0))
    install_all(service)
    return Desks(*(Actor(service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))


def publish_slot(sessions: sessionmaker[Session], start: datetime) -> int:
    """Dr Claire Martin (the editor's doctor) practises in La Rochelle with one slot."""
    with sessions.begin() as s:
        e = s.scalars(select(Effecteur).where(Effecteur.rpps == "10100050075")).one()
        if not e.practices:
            e.rev = bump_revision(s)
            e.specialty, e.profession, e.sas_participant = "Médecine générale", "Médecin", True
            e.agenda_level = "end_to_end"
            e.practices.append(
                Practice(
                    name="Cabinet",
                    address="1 rue du Port",
                    commune_insee="17300",
                    commune_name="",
                    lat=LA_ROCHELLE[0],
                    lon=LA_ROCHELLE[1],
                )
            )
            s.flush()
        same = s.scalars(select(Slot.id).where(Slot.effecteur_id == e.id, Slot.start == start))
        return same.first() or slot(s, e, start).id


def agenda(status: str, start: datetime, identifier: str, regulator: str = MRL_ID) -> bytes:
    """The editor's FrAppointmentSAS for Dr Martin at ``start``, the MRL its regulator."""
    body = json.loads(appointment(status, regulator=regulator, identifier=identifier))
    body["start"] = start.isoformat()
    body["end"] = (start + timedelta(minutes=15)).isoformat()
    return json.dumps(body).encode()


async def send(
    room: Room,
    status: str,
    start: datetime,
    identifier: str,
    *,
    regulator: str = MRL_ID,
    put: bool = False,
) -> None:
    """The editor's POST (a new appointment) or PUT (its change, or ``put``: a booked
    appointment moved to ``start``), answered 2xx."""
    body = agenda(status, start, identifier, regulator)
    async with room.http(room.editor) as http:
        if status == "booked" and not put:
            answer = await http.post("/Appointment", content=body)
        else:
            answer = await http.put("/Appointment", params=query(identifier), content=body)
    assert answer.status_code in (200, 201), answer.text


async def phone_booked(
    room: Room,
    people: dict[str, Principal],
    ref: str,
    *,
    start: datetime = T0 + timedelta(hours=5),
    agenda_first: str | None = None,
) -> Followed:
    """A task whose OSNP phoned Dr Martin and booked her slot: call-back appointment
    BOOKED, the slot's place taken, the task closed. ``agenda_first``: the doctor enters
    it in her agenda while the OSNP is on the phone (the editor's ``booked``, with this
    identifier, comes while the dossier is still waiting: it attaches itself there)."""
    slot_id = publish_slot(room.sessions, start)
    desks = side_desks(room.sessions, people)
    task_id = osnp_task(desks, ref=ref)
    if agenda_first is not None:
        await send(room, "booked", start, agenda_first)
    creneau = [t for t in plan(desks, task_id)["targets"] if t["slot_id"] == slot_id]
    assert creneau, "Dr Martin's slot is in the plan"
    reply = desks.osnp.send("callback.attempt", target_id=creneau[0]["id"], result="ACCEPTED")
    ap = reply["appointment"]
    with room.sessions() as s:
        row = s.get(Appointment, ap["id"])
        # the agenda's booked came first: the doctor's agenda holds it, CONFIRMED at once
        status = "CONFIRMED" if agenda_first is not None else "BOOKED"
        assert row is not None and row.status == status and row.booking_id is not None
        assert s.get(Slot, slot_id).booked == 1  # type: ignore[union-attr]
        return Followed(task_id, row.dossier_id, row.id, row.booking_id, slot_id, start, desks)


def status_events(s: Session) -> list[Event]:
    """The ``callback.appointment_status`` events logged, in order."""
    found = select(Event).where(Event.type == "callback.appointment_status").order_by(Event.seq)
    return list(s.scalars(found))


def listen(room: Room, desk: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    room.desks[desk].on_event.append(got.append)
    return got


def status_of(room: Room, appointment_id: int) -> str:
    with room.sessions() as s:
        row = s.get(Appointment, appointment_id)
        assert row is not None
        return row.status


def named(events: list[dict[str, Any]], name: str) -> Callable[[], list[dict[str, Any]]]:
    return lambda: [m for m in events if m["event"] == name]


async def attach_from_board(room: Room, identifier: str, dossier_id: int) -> None:
    with room.sessions() as s:
        agenda_id = s.scalars(
            select(AgendaAppointment.id).where(AgendaAppointment.identifier == identifier)
        ).one()
    await room.desks["osnp"].call(
        AppointmentAttach, appointment_id=agenda_id, dossier_id=dossier_id
    )


# -- the fate closes the follow-up ----------------------------------------------------


@pytest.mark.parametrize(("fate", "status"), [("fulfilled", "HONOURED"), ("noshow", "NO_SHOW")])
async def test_the_agendas_fate_closes_the_phone_booked_appointment(
    room: Room, people: dict[str, Principal], fate: str, status: str
) -> None:
    f = await phone_booked(room, people, "call-phone", agenda_first="rdv-phone")
    start = f.start
    with room.sessions() as s:
        attached = s.scalars(select(AgendaAppointment.dossier_id)).one()
    assert attached == f.dossier_id
    osnp = listen(room, "osnp")
    await send(room, fate, start, "rdv-phone")
    [seen] = await until(named(osnp, "callback.appointment_status"), "the OSNP's desk told")
    assert seen["actor"] is None
    assert_documented(seen)
    assert seen["task"]["id"] == f.task_id and seen["dossier"]["id"] == f.dossier_id
    assert seen["data"] == {
        "appointment_id": f.appointment_id,
        "from_status": "CONFIRMED",
        "status": status,
        "outcome": "RDV_CRENEAU",
        "note": NOTE,
    }
    fold_statistics(room)
    with room.sessions() as s:
        row = s.get(Appointment, f.appointment_id)
        assert row is not None and row.status == status and NOTE in row.note
        logged = status_events(s)  # confirmed when noted (the agenda's booked came first)
        assert [e.data["status"] for e in logged] == ["CONFIRMED", status]
        assert all(e.task_id == f.task_id for e in logged)
        assert logged[-1].actor_id is None  # the fate: the agenda's alone
        # the statistics fold it as they fold the OSNP's own
        fact = s.get(StatAppointment, f.appointment_id)
        assert fact is not None and fact.status == status
        assert s.get(Slot, f.slot_id).booked == 1  # type: ignore[union-attr]  # kept
    # Final: the OSNP may no longer type another fate, and a replay changes nothing.
    err = f.desks.osnp.refused(
        "callback.appointment.status", appointment_id=f.appointment_id, status="CANCELLED"
    )
    assert err.code == "invalid_state"
    await send(room, fate, start, "rdv-phone")
    await room.settle()
    assert len(named(osnp, "callback.appointment_status")()) == 1


async def test_a_cancellation_frees_the_place_once(
    room: Room, people: dict[str, Principal]
) -> None:
    f = await phone_booked(room, people, "call-cancel", agenda_first="rdv-cancel")
    start = f.start
    osnp, directory = listen(room, "osnp"), listen(room, "sup")
    await send(room, "cancelled", start, "rdv-cancel")
    [seen] = await until(named(osnp, "callback.appointment_status"), "cancelled")
    assert (seen["data"]["from_status"], seen["data"]["status"]) == ("CONFIRMED", "CANCELLED")
    [released] = await until(named(directory, "slot.released"), "the place given back")
    assert released["data"]["booking"]["id"] == f.booking_id
    with room.sessions() as s:
        assert s.get(Slot, f.slot_id).booked == 0  # type: ignore[union-attr]
        booking = s.get(Booking, f.booking_id)
        assert booking is not None and booking.released_at is not None
        assert booking.release_reason == NOTE
    await send(room, "cancelled", start, "rdv-cancel")  # a replay: nothing more
    await room.settle()
    assert len(named(directory, "slot.released")()) == 1
    with room.sessions() as s:
        assert s.get(Slot, f.slot_id).booked == 0  # type: ignore[union-attr]
        n = s.scalar(select(func.count(Event.seq)).where(Event.type == "slot.released"))
        assert n == 1


async def test_a_place_already_given_back_is_not_given_back_twice(
    room: Room, people: dict[str, Principal]
) -> None:
    """The OSNP freed the place from the directory first: the agenda's cancellation
    still closes the follow-up, frees nothing more, and the editor is answered 200."""
    f = await phone_booked(room, people, "call-freed", agenda_first="rdv-freed")
    start = f.start
    f.desks.sup.send("slot.release", booking_id=f.booking_id, reason="libéré à la main")
    await send(room, "cancelled", start, "rdv-freed")
    assert status_of(room, f.appointment_id) == "CANCELLED"
    with room.sessions() as s:
        assert s.get(Slot, f.slot_id).booked == 0  # type: ignore[union-attr]
        booking = s.get(Booking, f.booking_id)
        assert booking is not None and booking.release_reason == "libéré à la main"


async def test_a_fate_attached_from_the_board_closes_the_follow_up(
    room: Room, people: dict[str, Principal]
) -> None:
    """The agenda reported only the fate (a PUT of an appointment it never posted): on
    no dossier, it waits on the board; attached there, it closes the follow-up."""
    f = await phone_booked(room, people, "call-board")
    await send(room, "fulfilled", f.start, "rdv-late")
    assert status_of(room, f.appointment_id) == "BOOKED"  # whose? nobody knows yet
    board = await room.desks["osnp"].call(AppointmentBoard)
    assert [a["status"] for a in board["appointments"]] == ["fulfilled"]
    await attach_from_board(room, "rdv-late", f.dossier_id)
    assert status_of(room, f.appointment_id) == "HONOURED"


async def test_the_agenda_is_believed_before_the_appointments_time(
    room: Room, people: dict[str, Principal]
) -> None:
    """A fate the OSNP types waits for the appointment's time; the doctor's agenda
    saying the patient was seen (early) is recorded, not refused."""
    soon = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    f = await phone_booked(room, people, "call-early", start=soon)
    assert f.start > datetime.now(UTC)  # ahead, by the hub's clock
    await send(room, "fulfilled", f.start, "rdv-early")
    await attach_from_board(room, "rdv-early", f.dossier_id)
    assert status_of(room, f.appointment_id) == "HONOURED"


# -- the agenda's booked, its moves, and an editor's slot accepted on the phone --------


async def test_the_agendas_booked_confirms_the_phone_booked_appointment(
    room: Room, people: dict[str, Principal]
) -> None:
    """The doctor enters the appointment the OSNP phoned for: the agenda's ``booked``,
    attached to the dossier from the board, turns the call-back appointment CONFIRMED."""
    f = await phone_booked(room, people, "call-confirm")
    osnp = listen(room, "osnp")
    await send(room, "booked", f.start, "rdv-confirm")  # after the call: on the board
    await attach_from_board(room, "rdv-confirm", f.dossier_id)
    [seen] = await until(named(osnp, "callback.appointment_status"), "confirmed")
    assert (seen["data"]["from_status"], seen["data"]["status"]) == ("BOOKED", "CONFIRMED")
    assert seen["data"]["note"] == NOTE
    assert status_of(room, f.appointment_id) == "CONFIRMED"
    await send(room, "fulfilled", f.start, "rdv-confirm")
    assert status_of(room, f.appointment_id) == "HONOURED"


async def test_the_agendas_booked_before_the_osnp_noted_the_call_confirms_it_at_once(
    room: Room, people: dict[str, Principal]
) -> None:
    """The doctor enters the appointment while the OSNP is still on the phone: the
    agenda's ``booked`` attaches itself to the waiting dossier; the call-back appointment
    the OSNP then notes is CONFIRMED in the same unit of work (the OSNP's: its actor),
    the note saying the agenda said so."""
    f = await phone_booked(room, people, "call-held", agenda_first="rdv-held")
    assert status_of(room, f.appointment_id) == "CONFIRMED"
    with room.sessions() as s:
        logged = s.scalars(select(Event).where(Event.type == "callback.appointment_status")).one()
    assert (logged.data["from_status"], logged.data["status"]) == ("BOOKED", "CONFIRMED")
    assert logged.data["note"] == NOTE
    await send(room, "fulfilled", f.start, "rdv-held")
    assert status_of(room, f.appointment_id) == "HONOURED"


async def test_a_move_in_the_agenda_is_followed(room: Room, people: dict[str, Principal]) -> None:
    """The editor moves the appointment (a PUT of the same identifier, a new start): the
    call-back appointment and its task follow it, so its fate at the new time closes it."""
    f = await phone_booked(room, people, "call-move", agenda_first="rdv-move")
    later = f.start + timedelta(hours=1)
    await send(room, "booked", later, "rdv-move", put=True)
    with room.sessions() as s:
        row = s.get(Appointment, f.appointment_id)
        assert row is not None and (row.at, row.status) == (later, "CONFIRMED")
        task = s.get(OsnpTask, f.task_id)
        assert task is not None and task.appointment_at == later
    even_later = later + timedelta(minutes=30)  # moved and done in one message
    await send(room, "noshow", even_later, "rdv-move")
    with room.sessions() as s:
        row = s.get(Appointment, f.appointment_id)
        assert row is not None and (row.at, row.status) == (even_later, "NO_SHOW")


OSNP_ID = "810009876543"  # the OSNP account's national identifier
PAGE = "https://agenda.test/rdv/martin"


def editors_slot(sessions: sessionmaker[Session], start: datetime) -> int:
    """Dr Martin's slot at ``start``, published by her agenda's editor (its comment is
    the booking page); the OSNP carries a national identifier the editor names."""
    slot_id = publish_slot(sessions, start)
    with sessions.begin() as s:
        found = s.get(Slot, slot_id)
        assert found is not None
        found.comment = PAGE
        s.execute(update(User).where(User.username == "osnp").values(national_id=OSNP_ID))
    return slot_id


def dossier_of(sessions: sessionmaker[Session], task_id: int) -> int:
    with sessions() as s:
        task = s.get(OsnpTask, task_id)
        assert task is not None
        return task.dossier_id


def bookings_of(sessions: sessionmaker[Session], dossier_id: int) -> list[Booking]:
    with sessions() as s:
        found = list(s.scalars(select(Booking).where(Booking.dossier_id == dossier_id)))
        s.expunge_all()
        return found


def accept(desks: Desks, task_id: int, slot_id: int) -> dict[str, Any]:
    creneau = [t for t in plan(desks, task_id)["targets"] if t["slot_id"] == slot_id]
    assert creneau, "the editor's slot is in the plan"
    reply: dict[str, Any] = desks.osnp.send(
        "callback.attempt", target_id=creneau[0]["id"], result="ACCEPTED"
    )
    return reply


async def test_accepted_on_an_editors_slot_books_nothing_beside_its_pending_booking(
    room: Room, people: dict[str, Principal]
) -> None:
    """The OSNP pressed « Réserver » (pending at the editor), then notes the doctor's
    yes in the call-back panel: the call-back appointment holds that pending booking,
    no second booking is made, no place taken; the editor's ``booked`` confirms both."""
    start = T0 + timedelta(hours=5)
    slot_id = editors_slot(room.sessions, start)
    desks = side_desks(room.sessions, people)
    task_id = osnp_task(desks, ref="call-editor")
    dossier_id = dossier_of(room.sessions, task_id)
    pending = desks.osnp.send("slot.book", slot_id=slot_id, dossier_id=dossier_id)["booking"]
    assert pending["agenda_status"] == "pending"
    reply = accept(desks, task_id, slot_id)
    assert "slot.booked" not in desks.osnp.events()
    assert [b.id for b in bookings_of(room.sessions, dossier_id)] == [pending["id"]]
    appointment_id = reply["appointment"]["id"]
    with room.sessions() as s:
        ap = s.get(Appointment, appointment_id)
        assert ap is not None and (ap.booking_id, ap.status) == (pending["id"], "BOOKED")
        assert s.get(Slot, slot_id).booked == 0  # type: ignore[union-attr]
    await send(room, "booked", start, "rdv-editor", regulator=OSNP_ID)
    [confirmed] = bookings_of(room.sessions, dossier_id)
    assert confirmed.agenda_status == "booked"
    assert status_of(room, appointment_id) == "CONFIRMED"
    await send(room, "fulfilled", start, "rdv-editor", regulator=OSNP_ID)
    assert status_of(room, appointment_id) == "HONOURED"


async def test_accepted_on_an_editors_slot_goes_through_the_editor(
    room: Room, people: dict[str, Principal]
) -> None:
    """No « Réserver » first: the accepted call books the editor's slot the editor's way
    (pending, its page, ``dossier.agenda_booking``), never a place of ours."""
    start = T0 + timedelta(hours=5)
    slot_id = editors_slot(room.sessions, start)
    desks = side_desks(room.sessions, people)
    task_id = osnp_task(desks, ref="call-editor-only")
    dossier_id = dossier_of(room.sessions, task_id)
    reply = accept(desks, task_id, slot_id)
    events = desks.osnp.events()
    assert "slot.booked" not in events and "dossier.agenda_booking" in events
    assert any("page de l'éditeur" in w for w in reply["warnings"]), reply["warnings"]
    [pending] = bookings_of(room.sessions, dossier_id)
    assert (pending.agenda_status, pending.booking_page) == ("pending", PAGE + "?origin=sas")
    with room.sessions() as s:
        assert s.get(Slot, slot_id).booked == 0  # type: ignore[union-attr]
    await send(room, "booked", start, "rdv-editor-only", regulator=OSNP_ID)
    assert status_of(room, reply["appointment"]["id"]) == "CONFIRMED"


async def test_accepted_after_the_editor_confirmed_is_confirmed_at_once(
    room: Room, people: dict[str, Principal]
) -> None:
    """« Réserver », the editor's ``booked``, then the OSNP notes the call: the
    call-back appointment holds the confirmed booking and is CONFIRMED from the start."""
    start = T0 + timedelta(hours=5)
    slot_id = editors_slot(room.sessions, start)
    desks = side_desks(room.sessions, people)
    task_id = osnp_task(desks, ref="call-editor-first")
    dossier_id = dossier_of(room.sessions, task_id)
    pending = desks.osnp.send("slot.book", slot_id=slot_id, dossier_id=dossier_id)["booking"]
    await send(room, "booked", start, "rdv-editor-first", regulator=OSNP_ID)
    reply = accept(desks, task_id, slot_id)
    assert reply["appointment"]["status"] == "CONFIRMED"
    assert [b.id for b in bookings_of(room.sessions, dossier_id)] == [pending["id"]]
    with room.sessions() as s:
        ap = s.get(Appointment, reply["appointment"]["id"])
        assert ap is not None and ap.booking_id == pending["id"]


# -- nothing to match, or two ---------------------------------------------------------


async def test_another_time_or_no_dossier_moves_nothing(
    room: Room, people: dict[str, Principal]
) -> None:
    f = await phone_booked(room, people, "call-other")
    await send(room, "fulfilled", f.start + timedelta(hours=1), "rdv-other-time")
    await attach_from_board(room, "rdv-other-time", f.dossier_id)  # same dossier, not its time
    await send(room, "noshow", f.start, "rdv-no-dossier")  # its time, on no dossier
    await room.settle()
    assert status_of(room, f.appointment_id) == "BOOKED"
    with room.sessions() as s:
        assert (
            s.scalar(
                select(func.count(Event.seq)).where(Event.type == "callback.appointment_status")
            )
            == 0
        )


async def test_two_agenda_appointments_that_could_be_it_move_nothing(
    room: Room, people: dict[str, Principal]
) -> None:
    # the first attaches itself to the waiting dossier
    f = await phone_booked(room, people, "call-twins", agenda_first="rdv-twin-a")
    start = f.start
    await send(room, "booked", start, "rdv-twin-b")  # the same doctor and start, again
    await attach_from_board(room, "rdv-twin-b", f.dossier_id)
    await send(room, "fulfilled", start, "rdv-twin-a")
    await room.settle()
    assert status_of(room, f.appointment_id) == "CONFIRMED"  # by rdv-twin-a, alone then


# -- the national platform ------------------------------------------------------------


async def test_the_platforms_fate_closes_the_follow_up_too(
    room: Room, people: dict[str, Principal]
) -> None:
    """RS-SAS-RDV through the Hub Santé's inbox (no broker: the message as it arrives):
    the platform's appointment attaches itself to the waiting dossier, its ``noshow``
    closes the follow-up, the note saying the platform said it."""
    from app.interop.hubsante import messages
    from tests.appointments.test_platform_rdv import envelope, inbox, rdv

    arrivals = inbox(HubService(room.sessions))
    install_all(arrivals.service)

    def platform(status: str, method: str, start: datetime) -> list[str]:
        body = rdv(
            "ptf-followed",
            method,
            status=status,
            start=messages.iso(start),
            end=messages.iso(start + timedelta(minutes=20)),
        )
        body["practitioner"]["rppsId"] = "810100050075"  # Dr Martin
        body["regulator"]["regulatorId"] = MRL_ID
        what, events = arrivals.receive(json.dumps(envelope(body)).encode())
        assert what == "applied"
        return [e.message["event"] for e in events]

    start = T0 + timedelta(hours=5)
    publish_slot(room.sessions, start)
    desks = side_desks(room.sessions, people)
    task_id = osnp_task(desks, ref="call-ptf")
    assert platform("booked", "CreateAppointment", start) == [
        "appointment.received",
        "appointment.attached",
    ]
    creneau = [t for t in plan(desks, task_id)["targets"] if t["slot_start"] == start.isoformat()]
    ap = desks.osnp.send("callback.attempt", target_id=creneau[0]["id"], result="ACCEPTED")
    appointment_id = ap["appointment"]["id"]
    assert platform("noshow", "UpdateAppointment", start) == [
        "appointment.updated",
        "callback.appointment_status",
    ]
    assert status_of(room, appointment_id) == "NO_SHOW"
    with room.sessions() as s:
        logged = status_events(s)
    assert [e.data["status"] for e in logged] == ["CONFIRMED", "NO_SHOW"]
    assert logged[-1].actor_id is None  # the fate: the platform's alone
    assert all(e.data["note"] == "retour de la plateforme SAS" for e in logged)


async def test_the_one_holding_the_agendas_booking_is_found_by_it_and_not_freed_twice(
    room: Room, people: dict[str, Principal]
) -> None:
    """A call-back appointment holding the booking the editor confirmed (an accepted
    call on an editor's slot makes one; here set by hand) is found by that booking,
    whatever time it says; the editor's cancellation frees that booking itself
    (store.py), in the same transaction, and the follow-up frees nothing more."""
    f = await phone_booked(room, people, "call-shared")
    with room.sessions.begin() as s:
        mrl = s.scalars(select(User.id).where(User.username == "mrl")).one()
        shared = book_at_editor(
            s, f.slot_id, "https://agenda.test/rdv", now=T0, user_id=mrl, dossier_id=f.dossier_id
        ).booking.id
        held = s.get(Appointment, f.appointment_id)
        assert held is not None
        held.booking_id, held.at = shared, f.start + timedelta(minutes=5)
    await send(room, "booked", f.start, "rdv-shared")  # confirms the pending booking
    with room.sessions() as s:
        row = s.scalars(select(AgendaAppointment)).one()
        assert (row.booking_id, row.dossier_id) == (shared, f.dossier_id)
    directory = listen(room, "sup")
    await send(room, "cancelled", f.start, "rdv-shared")
    assert status_of(room, f.appointment_id) == "CANCELLED"
    await room.settle()
    assert [m["data"]["booking"]["id"] for m in named(directory, "slot.released")()] == [shared]
    with room.sessions() as s:
        booking = s.get(Booking, shared)
        assert booking is not None and booking.release_reason == "annulé dans l'agenda du médecin"
