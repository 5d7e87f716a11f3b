"""RS-SAS-RDV from the national SAS platform through the Hub Santé: a fake platform
(a Hub Santé client ``fr.health.ptfsas`` on a real RabbitMQ, the Hub Santé's dispatcher
played by the test) publishes creates and updates to the hub's connector and reads its
own ``ack`` and ``info`` queues; logged-in desks receive the events.

The messages are written here in the shape of the SAS guide's examples (no upstream
file is copied): the regulator is named by a national identifier of the IDNPS form.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.models import Appointment, AppointmentMessage
from app.client.hub_client import HubClient
from app.config.settings import HubSanteSettings
from app.db.models import User
from app.db.types import utcnow
from app.directory.models import Effecteur
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.hub.protocol import Ping
from app.hub.service import HubService
from app.interop.hubsante import messages
from app.interop.hubsante.broker import Broker
from app.interop.hubsante.inbox import Inbox
from app.interop.hubsante.models import HsJournal, HsOutbox
from app.interop.hubsante.peer import Dispatcher, Peer
from app.room import Hub
from tests.appointments.test_board import waiting_dossier
from tests.appointments.test_hub_feedback import MRL_ID, keep_appointments
from tests.hub.desks import logged_client
from tests.interop.envelopes import message
from tests.interop.hubsante_fixtures import (
    LRM,
    PTFSAS,
    SAS,
    connector,
    count,
    needs_rabbitmq,
    start_hub,
    start_peers,
    stop_peers,
)
from tests.waits import until

RPPS = "10005681340"  # the practitioner, known to the room's directory
DESKS = ("sup", "osnp", "mrl", "n1")
#: One booking for every message of a test: an update sent twice is the same update.
BOOKED_AT = utcnow().replace(microsecond=0)
START = (BOOKED_AT + timedelta(days=1)).replace(hour=13, minute=0, second=0)


def rdv(appointment_id: str, method: str = "CreateAppointment", **changes: Any) -> dict[str, Any]:
    """An RS-SAS-RDV ``appointment`` as the platform sends it (the guide's fields)."""
    start = START
    body: dict[str, Any] = {
        "appointmentId": appointment_id,
        "method": method,
        "created": messages.iso(BOOKED_AT),
        "status": "booked",
        "orientationCategory": "PS",
        "start": messages.iso(start),
        "end": messages.iso(start + timedelta(minutes=20)),
        "practitioner": {
            "rppsId": "8" + RPPS,
            "lastName": "MOREAU",
            "firstName": "Lucie",
            "specialityCode": "SM54",
            "professionCode": "10",
        },
        "regulator": {
            "regulatorId": "3170100042/12345SR",
            "regulatorName": "BERNARD",
            "regulatorFirstname": "Inès",
            "regulatorEmail": "ines.bernard@sas17.test",
        },
    }
    body.update(changes)
    return body


def envelope(body: dict[str, Any], sender: str = PTFSAS, **kw: Any) -> dict[str, Any]:
    return messages.build(sender, SAS, "Report", "appointment", body, now=utcnow(), **kw)


@dataclass
class Room:
    hub: Hub
    ptf: Peer
    lrm: Peer
    sessions: sessionmaker[Session]
    desks: dict[str, HubClient]
    seen: dict[str, list[dict[str, Any]]]

    def acks(self) -> list[str]:
        return [message(m)["reference"]["distributionID"] for m in self.ptf.received["ack"]]

    def errors(self) -> list[dict[str, Any]]:
        return [message(m)["error"] for m in self.ptf.received["info"]]

    def rows(self) -> list[Appointment]:
        with self.sessions() as s:
            return list(s.scalars(select(Appointment).order_by(Appointment.id)))

    def journal(self) -> list[tuple[str, str, int, str]]:
        with self.sessions() as s:
            q = select(AppointmentMessage).order_by(AppointmentMessage.id)
            return [(m.source, m.identifier, m.answer, m.outcome) for m in s.scalars(q)]

    def events(self, desk: str) -> list[tuple[str, str, str | None]]:
        return [
            (m["event"], m["data"]["appointment"]["status"], m["data"]["previous_status"])
            for m in self.seen[desk]
            if "appointment" in m["data"]
        ]


@pytest.fixture
async def room(
    broker: Broker,
    db_url: str,
    sessions: sessionmaker[Session],
) -> AsyncIterator[Room]:
    with sessions.begin() as s:
        s.add(Effecteur(rpps=RPPS, last_name="Moreau", first_name="Lucie"))
    dispatcher: Dispatcher
    dispatcher, (ptf, lrm) = await start_peers(broker, PTFSAS, LRM)
    hub = await start_hub(db_url, broker)
    desks = {name: await logged_client(hub, name) for name in DESKS}
    seen: dict[str, list[dict[str, Any]]] = {name: [] for name in DESKS}
    for name, client in desks.items():
        client.on_event.append(keep_appointments(seen[name]))
    try:
        yield Room(hub, ptf, lrm, sessions, desks, seen)
    finally:
        for client in desks.values():
            await client.close()
        await hub.stop()
        await stop_peers(dispatcher, [ptf, lrm])


@needs_rabbitmq
async def test_create_is_acknowledged_stored_and_told_a_replayed_create_conflicts(
    room: Room,
) -> None:
    first = envelope(rdv("2f0c7a4e-5b1d-4c3e-9a8f-0d6b1e2c3a41"))
    await room.ptf.publish(first)
    await room.ptf.wait_for("ack", 1)
    assert room.acks() == [first["distributionID"]]
    ack = room.ptf.received["ack"][0]
    assert messages.problems(ack) == [] and ack["distributionKind"] == "Ack"
    assert ack["senderID"] == SAS and message(ack)["kind"] == "Ack"
    (row,) = room.rows()
    assert (row.source, row.sender, row.identifier_system) == ("platform", PTFSAS, PTFSAS)
    assert (row.identifier, row.status, row.version) == (
        "2f0c7a4e-5b1d-4c3e-9a8f-0d6b1e2c3a41",
        "booked",
        1,
    )
    assert row.effecteur_national_id == "8" + RPPS and row.effecteur_id is not None
    assert (row.regulator_id, row.regulator_national) == ("3170100042/12345SR", True)
    assert (row.regulator_name, row.regulator_email) == ("Inès BERNARD", "ines.bernard@sas17.test")
    assert (row.orientation_category, row.end_known) == ("PS", True)
    assert row.end - row.start == timedelta(minutes=20)
    await until(lambda: all(room.events(d) for d in ("sup", "osnp", "mrl")), "received")
    for desk in ("sup", "osnp", "mrl"):
        assert room.events(desk) == [("appointment.received", "booked", None)]
    view = room.seen["osnp"][0]["data"]["appointment"]
    assert view["effecteur"]["name"] == "Lucie Moreau" and view["source"] == "platform"
    assert view["regulator"]["name"] == "Inès BERNARD"
    # The platform sends the create again (a new message, the same appointment id):
    # 409 CONFLICT on its info queue, as the SAS guide says; nothing changes.
    again = envelope(rdv("2f0c7a4e-5b1d-4c3e-9a8f-0d6b1e2c3a41", status="cancelled"))
    await room.ptf.publish(again)
    await room.ptf.wait_for("info", 1)
    (error,) = room.errors()
    assert messages.problems(room.ptf.received["info"][0]) == []
    assert error["errorCode"] == {"statusCode": 409, "statusString": "CONFLICT"}
    assert error["referencedDistributionID"] == again["distributionID"]
    assert "existe déjà" in error["errorCause"]
    assert room.acks() == [first["distributionID"]]
    (row,) = room.rows()
    assert (row.status, row.version) == ("booked", 1)
    assert room.journal() == [
        ("platform", "2f0c7a4e-5b1d-4c3e-9a8f-0d6b1e2c3a41", 201, "created"),
        ("platform", "2f0c7a4e-5b1d-4c3e-9a8f-0d6b1e2c3a41", 409, "refused"),
    ]
    # The same delivery twice (a broker redelivery): applied once, answered once.
    await room.ptf.publish(copy.deepcopy(first))
    await until(lambda: connector(room.hub).counts["duplicate"] == 1, "redelivery recognised")
    assert len(room.ptf.received["ack"]) == 1 and len(room.rows()) == 1
    assert room.lrm.received == {"message": [], "ack": [], "info": []}


@needs_rabbitmq
async def test_update_before_create_creates_and_an_update_twice_changes_once(
    room: Room,
) -> None:
    ident = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
    early = envelope(rdv(ident, "UpdateAppointment", status="booked", end=None))
    del message(early)["appointment"]["end"]  # the end is optional
    await room.ptf.publish(early)
    await room.ptf.wait_for("ack", 1)
    (row,) = room.rows()
    assert (row.status, row.version, row.end_known, row.end) == ("booked", 1, False, row.start)
    done = [envelope(rdv(ident, "UpdateAppointment", status="fulfilled")) for _ in range(2)]
    for e in done:
        await room.ptf.publish(e)
    await room.ptf.wait_for("ack", 3)
    assert room.acks() == [early["distributionID"]] + [e["distributionID"] for e in done]
    (row,) = room.rows()
    assert (row.status, row.version, row.end_known) == ("fulfilled", 2, True)
    assert [o for *_, o in room.journal()] == ["created", "updated", "replayed"]
    await until(lambda: len(room.events("osnp")) == 2, "received then updated")
    await room.desks["osnp"].call(Ping)  # a round trip: every event sent before is in
    assert room.events("osnp") == [
        ("appointment.received", "booked", None),
        ("appointment.updated", "fulfilled", "booked"),
    ]
    # A fate is final: an update taking it back is refused (702), nothing changes.
    back = envelope(rdv(ident, "UpdateAppointment", status="booked"))
    await room.ptf.publish(back)
    await room.ptf.wait_for("info", 1)
    assert room.errors()[0]["errorCode"] == {
        "statusCode": 702,
        "statusString": "WRONG_MESSAGE_SEQUENCE",
    }
    (row,) = room.rows()
    assert (row.status, row.version) == ("fulfilled", 2)
    assert room.errors() and room.ptf.received["ack"][3:] == []


@needs_rabbitmq
async def test_refused_messages_change_nothing_but_the_journals(room: Room) -> None:
    # Fails the RS-SAS-RDV model: unknown status, a property the schema does not have,
    # an RPPS without its "8", no regulator.
    broken = rdv("a1", status="confirmed", colour="bleu")
    broken["practitioner"]["rppsId"] = RPPS
    del broken["regulator"]
    invalid = envelope(broken)
    # Past its dateTimeExpires: its data must not be delivered any more.
    late = envelope(rdv("b2"), expires=timedelta(seconds=-30))
    # An appointment from another client than the platform.
    stranger = envelope(rdv("c3"), sender=LRM)
    await room.ptf.publish(invalid)
    await room.ptf.publish(late)
    await room.lrm.publish(stranger)
    await room.ptf.wait_for("info", 2)
    await room.lrm.wait_for("info", 1)
    codes = {e["referencedDistributionID"]: e for e in room.errors()}
    schema = codes[invalid["distributionID"]]
    assert schema["errorCode"] == {"statusCode": 300, "statusString": "INVALID_MESSAGE"}
    for part in ("appointment/status", "'colour'", "practitioner/rppsId", "regulator : Field"):
        assert part in schema["errorCause"], (part, schema["errorCause"])
    assert codes[late["distributionID"]]["errorCode"] == {
        "statusCode": 500,
        "statusString": "DEAD_LETTER_QUEUED",
    }
    other = message(room.lrm.received["info"][0])["error"]
    assert other["errorCode"] == {"statusCode": 703, "statusString": "UNKNOWN_SENDER"}
    for m in room.ptf.received["info"] + room.lrm.received["info"]:
        assert messages.problems(m) == []
    assert room.rows() == [] and room.ptf.received["ack"] == []
    assert sorted(room.journal()) == [
        ("platform", "a1", 300, "refused"),
        ("platform", "b2", 500, "refused"),
        ("platform", "c3", 703, "refused"),
    ]
    assert count(room.sessions, HsJournal, HsJournal.status == "refused") == 3
    # The supervisor sees them; the refusals reached no other desk.
    kept = (await room.desks["sup"].request("appointment.journal"))["messages"]
    assert {(m["identifier"], m["answer"], m["source"]) for m in kept} == {
        ("a1", 300, "platform"),
        ("b2", 500, "platform"),
        ("c3", 703, "platform"),
    }
    assert {m["detail"] for m in kept} == {
        invalid["distributionID"],
        late["distributionID"],
        stranger["distributionID"],
    }
    issues = next(m["issues"] for m in kept if m["identifier"] == "a1")
    assert any(i["expression"] == ["message/appointment/status"] for i in issues)
    await until(lambda: len(room.seen["sup"]) == 3, "three appointment.refused")
    assert {m["event"] for m in room.seen["sup"]} == {"appointment.refused"}
    await room.desks["osnp"].call(Ping)
    await room.desks["n1"].call(Ping)
    assert room.seen["osnp"] == [] and room.seen["n1"] == []


# -- the inbox on its own (no broker): what the platform may send that the editors don't


def inbox(service: HubService) -> Inbox:
    return Inbox(service, HubSanteSettings(client_id=SAS, url="amqps://unused"))


def outbox_errors(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as s:
        bodies = [json.loads(b) for b in s.scalars(select(HsOutbox.body).order_by(HsOutbox.id))]
    return [message(b) for b in bodies]


def test_a_structures_appointment_without_practitioner_or_end_is_kept(
    service: FlowService, sessions: sessionmaker[Session]
) -> None:
    """The guide's CDS example: a structure, no practitioner yet, and here no end; a
    practitioner the room's directory does not know is kept as the platform names them."""
    body = rdv("0e219a52-cds", orientationCategory="CDS")
    del body["practitioner"], body["end"]
    body["organization"] = {"organizationId": "1050005917", "name": "Centre de santé du Port"}
    unknown = rdv("5c6d-unknown-ps")
    unknown["practitioner"]["rppsId"] = "810009999999"
    for b in (body, unknown):
        what, events = inbox(service).receive(json.dumps(envelope(b)).encode())
        assert what == "applied"
        assert [e.message["event"] for e in events] == ["appointment.received"]
    with sessions() as s:
        cds, ps = s.scalars(select(Appointment).order_by(Appointment.id))
        assert (cds.effecteur_id, cds.effecteur_national_id, cds.end_known) == (None, "", False)
        assert (cds.organization_id, cds.organization_name) == (
            "1050005917",
            "Centre de santé du Port",
        )
        assert (ps.effecteur_id, ps.effecteur_national_id) == (None, "810009999999")
        assert ps.practitioner_name == "Lucie MOREAU"
    answers = outbox_errors(sessions)
    assert [m["kind"] for m in answers] == ["Ack", "Ack"]
    assert {m["recipient"][0]["name"] for m in answers} == {PTFSAS}


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"end": "2030-01-01T09:00:00+01:00", "start": "2030-01-01T10:00:00+01:00"}, "/end :"),
        ({"start": "2030-02-30T10:00:00+01:00"}, "/start : date et heure impossibles"),
        ({"appointmentId": "x" * 256}, "/appointmentId : 256 caractères"),
        ({"appointmentId": 42}, "/appointmentId : Input should be a valid string"),
        ({"method": "DeleteAppointment"}, "/method : Value error"),
    ],
)
def test_what_no_schema_says_is_refused_too(
    service: FlowService,
    sessions: sessionmaker[Session],
    change: dict[str, Any],
    found: str,
) -> None:
    what, events = inbox(service).receive(json.dumps(envelope(rdv("r-1", **change))).encode())
    assert what == "refused"
    assert [e.message["event"] for e in events] == ["hubsante.refused", "appointment.refused"]
    (error,) = outbox_errors(sessions)
    assert error["error"]["errorCode"]["statusCode"] == 300
    assert found in error["error"]["errorCause"], error["error"]["errorCause"]
    with sessions() as s:
        assert s.scalars(select(Appointment)).all() == []
        (line,) = s.scalars(select(AppointmentMessage))
        assert (line.source, line.answer, line.outcome) == ("platform", 300, "refused")


@needs_rabbitmq
def test_bench_command_measures_platform_appointments(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    argv = ["bench", "hubsante", "--content", "appointment", "--messages", "20", "--cases", "8"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["content"] == "RS-SAS-RDV" and out["acknowledged"] == 20
    assert out["connector_counts"]["applied"] == 20 and out["connector_counts"]["refused"] == 0
    assert out["connector_messages_per_s"] > 0 and out["baseline_messages_per_s"] > 0


def test_the_regulators_one_waiting_dossier_takes_the_platforms_appointment(
    service: FlowService, sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    """The board's rule holds for the platform as for the editors: the regulator named
    by the platform is the MRL's account, who has one SNP dossier waiting; the
    appointment attaches itself there."""
    with sessions.begin() as s:
        s.execute(update(User).where(User.username == "mrl").values(national_id=MRL_ID))
    dossier_id = waiting_dossier(sessions, people, "call-ptf")
    body = rdv("7f1c-ptf-auto")
    body["regulator"]["regulatorId"] = MRL_ID
    what, events = inbox(service).receive(json.dumps(envelope(body)).encode())
    assert what == "applied"
    assert [e.message["event"] for e in events] == ["appointment.received", "appointment.attached"]
    assert events[-1].message["data"]["automatic"] is True
    with sessions() as s:
        assert s.scalars(select(Appointment.dossier_id)).one() == dossier_id


def test_an_osnps_platform_identifier_finds_their_account(
    service: FlowService, sessions: sessionmaker[Session]
) -> None:
    """An OSNP has no RPPS: the platform names them by its own identifier, which the
    account carries (``sasdesk users set-platform-id``); without it the appointment
    names nobody here and waits on the board."""
    body = rdv("a1-osnp-ptf")
    body["regulator"]["regulatorId"] = "3170100042/12345SR"
    _, events = inbox(service).receive(json.dumps(envelope(body)).encode())
    assert events[0].message["data"]["appointment"]["regulator"]["user"] is None
    with sessions.begin() as s:
        s.execute(
            update(User).where(User.username == "osnp").values(platform_id="3170100042/12345SR")
        )
    body = rdv("a2-osnp-ptf")
    body["regulator"]["regulatorId"] = "3170100042/12345SR"
    _, events = inbox(service).receive(json.dumps(envelope(body)).encode())
    named = events[0].message["data"]["appointment"]["regulator"]
    assert named["user"]["username"] == "osnp"
    assert named["id"] == "3170100042/12345SR"
