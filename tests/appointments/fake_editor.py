"""A fake agenda editor on loopback, written from the SAS guide (not from our code).

It publishes one doctor's free slots as a FHIR searchset Bundle whose ``Slot.comment``
is the address of its own booking page (the guide's slot search, "PS indiv"); the page
answers 400 to a request without ``origin`` (a user who did not come from the SAS gets
no regulator's rights); booking a slot there POSTs a FrAppointmentSAS to the room's
endpoint over mutual TLS with the editor's client certificate, and later PUTs its fate
(fulfilled, noshow, cancelled) by the conditional update ``?identifier=system|value``.

The appointment bodies follow the guide's ``ExampleAppointmentBooked`` (tests/
appointments/test_fhir.py): operator extension (the regulator's IDNPS), identifier,
status, start/end, the effecteur's IDNPS ("8" + RPPS) as an accepted participant.
"""

from __future__ import annotations

import copy
import json
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiohttp import web

from app.appointments.fhir import SAS_TECHNICAL_SYSTEM
from tests.appointments.test_fhir import BOOKED
from tests.certs import Issued
from tests.interop.fhir_server import bundle, doctor_entries, entry

SEC = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: The editor's own identifier space for its appointments.
ID_SYSTEM = "urn:oid:1.2.250.1.999.17.1"


@dataclass
class Booked:
    """An appointment the editor holds and sent to the room."""

    identifier: str
    slot_id: str
    start: datetime
    regulator: str
    status: str = "booked"
    #: The platform's technical identifier (INTRN) of a regulator without a national one.
    technical: bool = False


@dataclass
class FakeEditor:
    """One editor: one doctor (``rpps``), slots from ``first`` every 15 minutes."""

    rpps: str
    first: datetime
    slot_count: int = 3
    #: The room's appointment endpoint (``…/fhir``) and our client certificate.
    hub_url: str = ""
    hub_ca: str = ""
    cert: Issued | None = None
    base: str = ""
    #: Every request to the booking page: its query parameters, as the editor saw them.
    page_requests: list[dict[str, str]] = field(default_factory=list)
    appointments: dict[str, Booked] = field(default_factory=dict)
    runner: web.AppRunner | None = None

    def slot_start(self, slot_id: str) -> datetime:
        return self.first + timedelta(minutes=15 * int(slot_id.removeprefix("ed-")))

    def page_url(self, slot_id: str) -> str:
        return f"{self.base}/rdv/{slot_id}"

    # -- the editor's server --------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/fhir/Slot", self._slots)
        app.router.add_get("/rdv/{slot}", self._page)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def fhir_url(self) -> str:
        return f"{self.base}/fhir"

    async def _slots(self, _request: web.Request) -> web.Response:
        base = self.fhir_url
        entries = doctor_entries(base, self.rpps, "ed")
        for i in range(self.slot_count):
            sid = f"ed-{i}"
            start = self.slot_start(sid)
            if any(a.slot_id == sid and a.status == "booked" for a in self.appointments.values()):
                continue  # taken in the editor's agenda: no longer offered
            entries.append(
                entry(
                    base,
                    {
                        "resourceType": "Slot",
                        "id": sid,
                        "meta": {"security": [{"system": SEC, "code": "SNP"}]},
                        "serviceType": [{"coding": [{"system": ACT, "code": "AMB"}]}],
                        "schedule": {"reference": "Schedule/s-ed"},
                        "status": "free",
                        "start": start.isoformat(),
                        "end": (start + timedelta(minutes=15)).isoformat(),
                        "comment": self.page_url(sid),
                    },
                    "match",
                )
            )
        body = json.dumps(bundle(entries, f"{base}/Slot", None))
        return web.Response(text=body, content_type="application/fhir+json")

    async def _page(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.page_requests.append(query)
        if query.get("origin") != "sas":
            return web.Response(
                status=400, text="Accès réservé au SAS : paramètre origin absent", charset="utf-8"
            )
        slot = request.match_info["slot"]
        return web.Response(
            text=f"<h1>Réservation SAS</h1><p>Créneau {slot}</p>",
            content_type="text/html",
            charset="utf-8",
        )

    # -- what the editor sends the room -----------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        assert self.cert is not None, "no client certificate"
        ctx = ssl.create_default_context(cafile=self.hub_ca)
        ctx.load_cert_chain(str(self.cert.cert), str(self.cert.key))
        return httpx.AsyncClient(base_url=self.hub_url, verify=ctx, timeout=10)

    def resource(self, a: Booked) -> dict[str, Any]:
        r = copy.deepcopy(BOOKED)
        r["id"] = a.identifier
        r["identifier"] = [{"system": ID_SYSTEM, "value": a.identifier}]
        operator = r["extension"][0]["valueReference"]["identifier"]
        operator["value"] = a.regulator
        if a.technical:
            operator["system"] = SAS_TECHNICAL_SYSTEM
            operator["type"]["coding"][0]["code"] = "INTRN"
        r["status"] = a.status
        r["start"] = a.start.isoformat()
        r["end"] = (a.start + timedelta(minutes=15)).isoformat()
        r["created"] = datetime.now(a.start.tzinfo).isoformat()
        r["participant"][0]["actor"]["identifier"]["value"] = f"8{self.rpps}"
        return r

    async def book(self, slot_id: str, regulator: str, technical: bool = False) -> httpx.Response:
        """The regulator booked ``slot_id`` on our page: tell the room (POST, booked)."""
        a = Booked(
            str(uuid.uuid4()), slot_id, self.slot_start(slot_id), regulator, technical=technical
        )
        self.appointments[a.identifier] = a
        async with self._client() as http:
            return await http.post(
                "/Appointment",
                content=json.dumps(self.resource(a)),
                headers={"Content-Type": "application/fhir+json"},
            )

    async def update(self, identifier: str, status: str) -> httpx.Response:
        """The appointment's fate (fulfilled, noshow, cancelled): a conditional PUT."""
        a = self.appointments[identifier]
        a.status = status
        async with self._client() as http:
            return await http.put(
                "/Appointment",
                params={"identifier": f"{ID_SYSTEM}|{identifier}"},
                content=json.dumps(self.resource(a)),
                headers={"Content-Type": "application/fhir+json"},
            )
