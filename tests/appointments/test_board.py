"""The appointment board on a real hub: an appointment whose regulator has exactly one
SNP dossier waiting attaches by itself and says so; otherwise it waits on the board,
where the OSNP or the MRL attaches it to a dossier (an event in the dossier's
timeline); the roles that do not follow appointments are refused the board."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.models import Appointment
from app.appointments.protocol import AppointmentAttach, AppointmentBoard
from app.client.hub_client import HubError
from app.db.models import Event
from app.hub.auth import Principal
from app.hub.service import HubService
from app.stats.models import StatAgendaAppointment
from app.stats.projection import catch_up
from tests.appointments.test_hub_feedback import Room, appointment, assert_documented
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier
from tests.waits import until


def waiting_dossier(sessions: sessionmaker[Session], people: dict[str, Principal], ref: str) -> int:
    """An SNP dossier decided by the MRL (the appointment's regulator), its search open."""
    service = HubService(sessions)
    from app.room import install_all

    install_all(service)
    n1, mrl = Actor(service, people["n1"]), Actor(service, people["mrl"])
    dossier_id = snp_dossier(n1, mrl, ref)
    mrl.send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
    return dossier_id


def tomorrow(status: str = "booked") -> bytes:
    """The guide's example, for tomorrow at 10:00 (the board shows what is ahead)."""
    body = json.loads(appointment(status))
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                           microsecond=0)  # fmt: skip
    body["start"], body["end"] = start.isoformat(), (start + timedelta(minutes=15)).isoformat()
    return json.dumps(body).encode()


def fold_statistics(room: Room) -> None:
    """Fold the events queued for the statistics, as a report does before it counts (the
    running hub folds them in batches, app.stats.hub)."""
    with room.sessions.begin() as s:
        catch_up(s.connection())


def kinds(room: Room, desk: str) -> list[str]:
    return [m["event"] for m in room.seen[desk]]


async def test_the_regulators_one_waiting_dossier_takes_the_appointment_by_itself(
    room: Room, people: dict[str, Principal]
) -> None:
    dossier_id = waiting_dossier(room.sessions, people, "call-auto")
    async with room.http(room.editor) as http:
        created = await http.post("/Appointment", content=tomorrow())
        assert created.status_code == 201, created.text
    await until(lambda: "appointment.attached" in kinds(room, "mrl"), "attached by itself")
    attached = room.seen["mrl"][-1]
    assert attached["data"]["automatic"] is True
    assert attached["data"]["appointment"]["dossier_id"] == dossier_id
    assert attached["dossier"]["id"] == dossier_id
    assert_documented(attached)
    fold_statistics(room)
    with room.sessions() as s:
        assert s.scalars(select(Appointment.dossier_id)).one() == dossier_id
        # the statistics count it in the dossier's figures (« RDV SAS réalisés »)
        assert s.scalars(select(StatAgendaAppointment.dossier_id)).one() == dossier_id
        timeline = list(s.scalars(select(Event.type).where(Event.dossier_id == dossier_id)))
    assert timeline[-1] == "appointment.attached"
    board = await room.desks["osnp"].call(AppointmentBoard)
    assert board["appointments"] == []  # attached: off the board


async def test_with_two_dossiers_waiting_it_goes_to_the_board_and_is_attached_there(
    room: Room, people: dict[str, Principal]
) -> None:
    first = waiting_dossier(room.sessions, people, "call-a")
    second = waiting_dossier(room.sessions, people, "call-b")
    async with room.http(room.editor) as http:
        created = await http.post("/Appointment", content=tomorrow())
        assert created.status_code == 201, created.text
    await until(lambda: "appointment.received" in kinds(room, "osnp"), "received")
    await room.settle()
    assert "appointment.attached" not in kinds(room, "mrl")  # which one? a person says
    osnp = room.desks["osnp"]
    listed: list[dict[str, Any]] = (await osnp.call(AppointmentBoard))["appointments"]
    assert [(a["status"], a["dossier_id"], a["regulator"]["id"]) for a in listed] == [
        ("booked", None, "810003456781")
    ]
    assert listed[0]["effecteur"]["name"] == "Claire Martin" and "structure" in listed[0]
    reply = await osnp.call(AppointmentAttach, appointment_id=listed[0]["id"], dossier_id=first)
    assert reply["appointment"]["dossier_id"] == first
    fold_statistics(room)
    with room.sessions() as s:
        assert s.scalars(select(StatAgendaAppointment.dossier_id)).one() == first
    await until(lambda: "appointment.attached" in kinds(room, "mrl"), "attached event")
    assert room.seen["mrl"][-1]["data"]["automatic"] is False
    assert (await osnp.call(AppointmentBoard))["appointments"] == []
    # Attached again to the same dossier: nothing changes; to another: refused.
    again = await osnp.call(AppointmentAttach, appointment_id=listed[0]["id"], dossier_id=first)
    assert again["appointment"]["version"] == reply["appointment"]["version"]
    with pytest.raises(HubError) as taken:
        await osnp.call(AppointmentAttach, appointment_id=listed[0]["id"], dossier_id=second)
    assert taken.value.code == "conflict"


@pytest.mark.parametrize("desk", ["n1", "amu"])
async def test_desks_that_do_not_follow_appointments_are_refused_the_board(
    room: Room, desk: str
) -> None:
    with pytest.raises(HubError) as refused:
        await room.desks[desk].call(AppointmentBoard)
    assert refused.value.code == "forbidden"


async def test_a_dossier_one_may_not_see_is_not_found_as_one_that_does_not_exist(
    room: Room, people: dict[str, Principal]
) -> None:
    waiting_dossier(room.sessions, people, "call-x")
    waiting_dossier(room.sessions, people, "call-y")
    async with room.http(room.editor) as http:
        await http.post("/Appointment", content=tomorrow())
    await until(lambda: "appointment.received" in kinds(room, "osnp"), "received")
    listed = (await room.desks["osnp"].call(AppointmentBoard))["appointments"]
    service = HubService(room.sessions)
    n1 = Actor(service, people["n1"])
    from app.room import install_all

    install_all(service)
    from tests.flow.flow_helpers import answer_call

    hidden = int(answer_call(n1, "call-hidden")["id"])  # still in the N1's hands
    errors = []
    for dossier_id in (hidden, hidden + 1000):
        with pytest.raises(HubError) as refused:
            await room.desks["osnp"].call(
                AppointmentAttach, appointment_id=listed[0]["id"], dossier_id=dossier_id
            )
        errors.append((refused.value.code, str(refused.value).replace(str(dossier_id), "N")))
    assert errors[0] == errors[1] and errors[0][0] == "not_found"
