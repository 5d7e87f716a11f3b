"""The appointment endpoint started with a real hub from its settings: an editor posts
over mutual TLS (certificates from tests/certs.py), logged-in desks receive the events
they may see, a refusal reaches the supervisor only, and the hub stops the endpoint.

The guide's example names its regulator "3456780581/11242343", which is no national
identifier a sasdesk account can carry (8 + RPPS or 0 + ADELI): the example is sent
with a regulator RPPS instead, the one given to the room's MRL account.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.hub import endpoint
from app.appointments.models import Appointment, AppointmentMessage
from app.appointments.protocol import AppointmentJournal
from app.appointments.settings import AppointmentSettings, EditorCertificate
from app.client.hub_client import HubClient, HubError
from app.config.settings import HubSettings
from app.db.models import Event, User
from app.directory.models import Effecteur
from app.hub.protocol import Ping
from app.room import Hub
from tests.appointments.test_fhir import BOOKED
from tests.certs import Authority, Issued, client_certificate
from tests.hub.desks import logged_client
from tests.waits import until

EDITOR = EditorCertificate("agenda-test", common_name="agenda.editeur.test", unit="Editeur Test")
MRL_ID = "810003456781"  # the regulator: the MRL account's national identifier
AMU_ID = "810007654329"
DESKS = ("sup", "mrl", "mrl2", "osnp", "amu", "n1")


@dataclass
class Room:
    hub: Hub
    url: str
    ca: Path
    editor: Issued
    stranger: Issued
    sessions: sessionmaker[Session]
    desks: dict[str, HubClient]
    seen: dict[str, list[dict[str, Any]]]

    def http(self, cert: Issued) -> httpx.AsyncClient:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(str(cert.cert), str(cert.key))
        return httpx.AsyncClient(base_url=self.url, verify=ctx, timeout=10)

    def events(self, desk: str) -> list[str]:
        return [m["event"] for m in self.seen[desk]]

    async def settle(self) -> None:
        """A round trip on every desk: any event sent to it before is in."""
        for client in self.desks.values():
            await client.call(Ping)


def keep_appointments(into: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def keep(message: dict[str, Any]) -> None:
        if message["event"].startswith("appointment"):
            into.append(message)

    return keep


@pytest.fixture
async def room(tmp_path: Path, db_url: str, sessions: sessionmaker[Session]) -> AsyncIterator[Room]:
    with sessions.begin() as s:
        s.add(Effecteur(rpps="10100050075", last_name="Martin", first_name="Claire"))
        s.execute(update(User).where(User.username == "mrl").values(national_id=MRL_ID))
        s.execute(update(User).where(User.username == "amu").values(national_id=AMU_ID))
    ca = Authority(tmp_path / "igc")
    server = ca.issue("rdv")
    settings = HubSettings(
        sections=(
            AppointmentSettings(
                server.cert, server.key, ca.file, (EDITOR,), port=0, base="/sas/fhir"
            ),
        )
    )
    hub = Hub(db_url, "127.0.0.1", 0, settings=settings)
    await hub.start()
    desks = {name: await logged_client(hub, name) for name in DESKS}
    seen: dict[str, list[dict[str, Any]]] = {name: [] for name in DESKS}
    for name, client in desks.items():
        client.on_event.append(keep_appointments(seen[name]))
    running = endpoint(hub)
    assert running is not None and running.port
    yield Room(
        hub,
        f"https://127.0.0.1:{running.port}/sas/fhir",
        ca.file,
        client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit),
        client_certificate(ca, "stranger", cn="intrus.test", ou=EDITOR.unit),
        sessions,
        desks,
        seen,
    )
    for client in desks.values():
        await client.close()
    await hub.stop()


def appointment(status: str, regulator: str = MRL_ID, identifier: str = "rdv-1") -> bytes:
    resource = copy.deepcopy(BOOKED)
    resource["status"] = status
    resource["extension"][0]["valueReference"]["identifier"]["value"] = regulator
    resource["identifier"][0]["value"] = identifier
    return json.dumps(resource).encode()


def query(identifier: str = "rdv-1") -> dict[str, str]:
    return {"identifier": f"urn:oid:1.1.111.1.11.1.1.1|{identifier}"}


FOLLOWERS = ("sup", "mrl", "mrl2", "osnp")
PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def shape(value: Any) -> Any:
    """The keys of a message, nested, with the type of each leaf (null for None)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def assert_documented(message: dict[str, Any]) -> None:
    """docs/protocol.md's example of this event has the shape of the one received."""
    text = PROTOCOL.read_text(encoding="utf-8")
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S)]
    examples = [b for b in blocks if b.get("event") == message["event"]]
    assert len(examples) == 1, f"{message['event']}: one example in docs/protocol.md"
    assert shape(examples[0]) == shape(message)


async def test_a_booking_and_its_fate_reach_the_desks_that_follow_them(room: Room) -> None:
    async with room.http(room.editor) as http:
        created = await http.post("/Appointment", content=appointment("booked"))
        assert created.status_code == 201, created.text
        await until(lambda: all(room.seen[d] for d in FOLLOWERS), "appointment.received")
        done = await http.put("/Appointment", params=query(), content=appointment("fulfilled"))
        assert done.status_code == 200, done.text
        await until(lambda: all(len(room.seen[d]) == 2 for d in FOLLOWERS), "appointment.updated")
        replay = await http.put("/Appointment", params=query(), content=appointment("fulfilled"))
        assert replay.status_code == 200
    await room.settle()
    for desk in FOLLOWERS:
        assert room.events(desk) == ["appointment.received", "appointment.updated"], desk
    assert room.events("n1") == [] and room.events("amu") == []  # neither follows it
    received, updated = room.seen["sup"]
    view = received["data"]["appointment"]
    with room.sessions() as s:
        row = s.scalars(select(Appointment)).one()
        mrl = s.scalars(select(User).where(User.username == "mrl")).one()
        effecteur_id = s.scalars(select(Effecteur.id)).one()
    assert created.headers["Location"] == f"/sas/fhir/Appointment/{row.id}"
    assert view == {
        "id": row.id,
        "source": "editor",
        "sender": "agenda-test",
        "identifier_system": "urn:oid:1.1.111.1.11.1.1.1",
        "identifier": "rdv-1",
        "status": "booked",
        "start": "2022-09-04T13:00:00+00:00",
        "end": "2022-09-04T13:15:00+00:00",
        "end_known": True,
        "effecteur": {"id": effecteur_id, "national_id": "810100050075", "name": "Claire Martin"},
        "organization": None,
        "orientation_category": "",
        "booked_at": None,
        "regulator": {
            "id": MRL_ID,
            "national": True,
            "name": "",
            "user": {"id": mrl.id, "username": "mrl", "name": mrl.display_name},
        },
        "version": 1,
    }
    assert received["data"]["previous_status"] is None
    for message in (received, updated):
        assert_documented(message)
    assert updated["data"]["previous_status"] == "booked"
    assert updated["data"]["appointment"]["status"] == "fulfilled"
    assert updated["data"]["appointment"]["version"] == 2
    with room.sessions() as s:
        kinds = list(s.scalars(select(Event.type).where(Event.type.like("appointment.%"))))
        journal = list(s.scalars(select(AppointmentMessage.outcome)))
    # The replay changed nothing and told nobody, but it is in the journal.
    assert kinds == ["appointment.received", "appointment.updated"]
    assert journal == ["created", "updated", "replayed"]


async def test_the_regulator_is_told_whatever_their_role(room: Room) -> None:
    async with room.http(room.editor) as http:
        created = await http.post(
            "/Appointment", content=appointment("booked", regulator=AMU_ID, identifier="rdv-2")
        )
    assert created.status_code == 201, created.text
    await until(lambda: room.seen["amu"], "the AMU doctor named as the regulator")
    await room.settle()
    assert room.seen["amu"][0]["data"]["appointment"]["regulator"]["user"]["username"] == "amu"
    assert room.events("n1") == []


async def test_a_refusal_reaches_the_supervisor_only(room: Room) -> None:
    async with room.http(room.editor) as http:
        await http.post("/Appointment", content=appointment("noshow"))
        back = await http.put("/Appointment", params=query(), content=appointment("booked"))
    async with room.http(room.stranger) as http:
        intruder = await http.post("/Appointment", content=appointment("booked"))
    assert (back.status_code, intruder.status_code) == (422, 403)
    await until(lambda: len(room.seen["sup"]) == 3, lambda: f"{room.events('sup')}")
    await room.settle()
    assert room.events("sup") == [
        "appointment.received",
        "appointment.refused",
        "appointment.refused",
    ]
    for desk in ("mrl", "osnp"):
        assert room.events(desk) == ["appointment.received"], desk
    assert_documented(room.seen["sup"][1])
    transition, stranger = (m["data"] for m in room.seen["sup"][1:])
    assert transition["sender"] == "agenda-test" and transition["answer"] == 422
    assert transition["identifier"] == "rdv-1"
    assert transition["issues"] == back.json()["issue"]
    assert stranger["sender"] == "CN=intrus.test OU=Editeur Test"
    assert stranger["answer"] == 403 and stranger["issues"][0]["code"] == "forbidden"
    with room.sessions() as s:
        assert s.scalars(select(Appointment.status)).one() == "noshow"
    # Later, the supervisor reads the refusals from the journal; nobody else may.
    journal = await room.desks["sup"].call(AppointmentJournal)
    assert [(m["answer"], m["sender"]) for m in journal["messages"]] == [
        (403, "CN=intrus.test OU=Editeur Test"),
        (422, "agenda-test"),
    ]
    assert journal["messages"][1]["issues"] == back.json()["issue"]
    every = await room.desks["sup"].call(AppointmentJournal, outcome="all", limit=10)
    assert [m["outcome"] for m in every["messages"]] == ["refused", "refused", "created"]
    with pytest.raises(HubError) as refused:
        await room.desks["mrl"].call(AppointmentJournal)
    assert refused.value.code == "forbidden"
    assert (
        refused.value.message
        == "la supervision est réservée au superviseur (Médecin régulateur libéral)"
    )


async def test_the_endpoint_stops_with_the_hub(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    ca = Authority(tmp_path / "igc")
    server = ca.issue("rdv")
    settings = HubSettings(
        sections=(AppointmentSettings(server.cert, server.key, ca.file, (EDITOR,), port=0),)
    )
    hub = Hub(db_url, "127.0.0.1", 0, settings=settings)
    await hub.start()
    running = endpoint(hub)
    assert running is not None
    editor = client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit)
    ctx = ssl.create_default_context(cafile=str(ca.file))
    ctx.load_cert_chain(str(editor.cert), str(editor.key))
    async with httpx.AsyncClient(verify=ctx, timeout=5) as http:
        url = f"https://127.0.0.1:{running.port}/fhir/Appointment"
        try:
            assert (await http.post(url, content=b"{}")).status_code == 400
        finally:
            await hub.stop()
        assert endpoint(hub) is None
        with pytest.raises(httpx.ConnectError):
            await http.post(url, content=b"{}")


async def test_the_guides_own_example_names_no_account(room: Room) -> None:
    """Its regulator "3456780581/11242343" is no RPPS or ADELI: kept, told to the
    followers, naming nobody."""
    async with room.http(room.editor) as http:
        created = await http.post("/Appointment", content=json.dumps(BOOKED).encode())
    assert created.status_code == 201, created.text
    await until(lambda: all(room.seen[d] for d in FOLLOWERS), "appointment.received")
    regulator = room.seen["sup"][0]["data"]["appointment"]["regulator"]
    assert regulator == {"id": "3456780581/11242343", "national": True, "name": "", "user": None}
