"""The appointment endpoint over real HTTPS with mutual TLS, on a real database.

Certificates are made by the test (tests/certs.py): one authority standing for the IGC
Santé, the hub's server certificate, an editor's client certificate (CN and OU as
configured), a stranger of the same authority, and an editor of another authority.
"""

from __future__ import annotations

import copy
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.endpoint import AppointmentEndpoint, EditorCertificate, server_tls
from app.appointments.models import Appointment, AppointmentMessage
from app.appointments.store import StoreSink
from app.directory.models import Effecteur
from tests.appointments.test_fhir import BOOKED
from tests.certs import Authority, Issued, client_certificate

EDITOR = EditorCertificate("agenda-test", common_name="agenda.editeur.test", unit="Editeur Test")


@dataclass
class Peer:
    base: str
    ca: Path
    editor: Issued
    stranger: Issued
    foreign: Issued
    sessions: sessionmaker[Session]

    def client(self, cert: Issued | None) -> httpx.AsyncClient:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if cert is not None:
            ctx.load_cert_chain(str(cert.cert), str(cert.key))
        return httpx.AsyncClient(base_url=self.base, verify=ctx, timeout=10)

    def count(self, model: type[Any]) -> int:
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def peer(tmp_path: Path, sessions: sessionmaker[Session]) -> AsyncIterator[Peer]:
    with sessions.begin() as s:
        s.add(Effecteur(rpps="10100050075", last_name="Martin", first_name="Claire"))
    ca = Authority(tmp_path / "igc")
    server = ca.issue("hub")
    sink = StoreSink(sessions)
    endpoint = AppointmentEndpoint(sink, [EDITOR])
    port = await endpoint.start("127.0.0.1", 0, server_tls(server.cert, server.key, ca.file))
    other = Authority(tmp_path / "other", name="Autre autorité")
    yield Peer(
        f"https://127.0.0.1:{port}/fhir",
        ca.file,
        client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit),
        client_certificate(ca, "stranger", cn="intrus.test", ou="Editeur Test"),
        client_certificate(other, "foreign", cn=EDITOR.common_name, ou=EDITOR.unit),
        sessions,
    )
    await endpoint.stop()


def with_status(status: str) -> bytes:
    resource = copy.deepcopy(BOOKED)
    resource["status"] = status
    return json.dumps(resource).encode()


QUERY = {"identifier": "urn:oid:1.1.111.1.11.1.1.1|b6e39355-8a61-4556-b340-36f7b95fec6a"}


async def test_booked_then_fulfilled_and_a_replay_changes_nothing(peer: Peer) -> None:
    async with peer.client(peer.editor) as http:
        created = await http.post("/Appointment", content=with_status("booked"))
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        assert location.startswith("/fhir/Appointment/")
        replay = await http.post("/Appointment", content=with_status("booked"))
        assert (replay.status_code, replay.headers["Location"]) == (200, location)
        done = await http.put("/Appointment", params=QUERY, content=with_status("fulfilled"))
        assert done.status_code == 200, done.text
    with peer.sessions() as s:
        row = s.scalars(select(Appointment)).one()
        assert (row.status, row.version, row.regulator_id) == (
            "fulfilled",
            2,
            "3456780581/11242343",
        )
        outcomes = list(
            s.scalars(select(AppointmentMessage.outcome).order_by(AppointmentMessage.id))
        )
    assert outcomes == ["created", "replayed", "updated"]


async def test_a_fate_cannot_go_back_and_the_refusal_is_journalled(peer: Peer) -> None:
    async with peer.client(peer.editor) as http:
        await http.put("/Appointment", params=QUERY, content=with_status("noshow"))
        back = await http.put("/Appointment", params=QUERY, content=with_status("booked"))
    assert back.status_code == 422
    assert back.json()["issue"][0]["expression"] == ["Appointment.status"]
    with peer.sessions() as s:
        assert s.scalars(select(Appointment.status)).one() == "noshow"
        last = s.scalars(select(AppointmentMessage).order_by(AppointmentMessage.id.desc())).first()
        assert last is not None and (last.outcome, last.answer) == ("refused", 422)


async def test_an_unknown_effecteur_and_a_mismatched_identifier_are_refused(peer: Peer) -> None:
    stranger = copy.deepcopy(BOOKED)
    stranger["participant"][0]["actor"]["identifier"]["value"] = "899999999999"
    async with peer.client(peer.editor) as http:
        unknown = await http.post("/Appointment", content=json.dumps(stranger).encode())
        other = await http.put(
            "/Appointment", params={"identifier": "autre"}, content=with_status("booked")
        )
        missing = await http.put("/Appointment", content=with_status("booked"))
    assert [unknown.status_code, other.status_code, missing.status_code] == [422, 400, 400]
    assert peer.count(Appointment) == 0
    assert peer.count(AppointmentMessage) == 3


async def test_a_stranger_of_the_same_authority_never_reaches_the_handler(peer: Peer) -> None:
    async with peer.client(peer.stranger) as http:
        refused = await http.post("/Appointment", content=with_status("booked"))
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert peer.count(Appointment) == 0
    with peer.sessions() as s:
        sender = s.scalars(select(AppointmentMessage.sender)).one()
    assert sender == "CN=intrus.test OU=Editeur Test"


@pytest.mark.parametrize("who", ["none", "foreign"])
async def test_no_certificate_or_another_authority_fails_the_handshake(
    peer: Peer, who: str
) -> None:
    cert = None if who == "none" else peer.foreign
    async with peer.client(cert) as http:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await http.post("/Appointment", content=with_status("booked"))
    assert peer.count(Appointment) == 0
    assert peer.count(AppointmentMessage) == 0


async def test_a_body_of_50_mib_is_refused_and_changes_nothing(peer: Peer) -> None:
    huge = b'{"resourceType": "Appointment", "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    async with peer.client(peer.editor) as http:
        try:
            answer = await http.post("/Appointment", content=huge)
        except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
            answer = None  # the server may close before the client has sent it all
    if answer is not None:
        assert answer.status_code == 413
    assert peer.count(Appointment) == 0


async def test_a_database_failure_answers_500_with_an_outcome(peer: Peer) -> None:
    with peer.sessions.begin() as s:  # the journal gone: every write fails, rolled back
        s.execute(text("DROP TABLE appointment_messages"))
    async with peer.client(peer.editor) as http:
        failed = await http.post("/Appointment", content=with_status("booked"))
    assert failed.status_code == 500
    assert failed.json()["issue"][0]["code"] == "exception"
    assert peer.count(Appointment) == 0
