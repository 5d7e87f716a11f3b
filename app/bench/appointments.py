"""``sasdesk bench appointments``: an editor's appointment, from its request to the desk
(this module), and the national platform's, through the Hub Santé
(app.bench.appointments_hubsante).

One hub in its own process on a temporary SQLite database, configured as a room's hub
with ``[rendez_vous]`` (the FHIR INT_R03 endpoint, mutual TLS with a throw-away
authority made here); a supervisor's desk logged in over the websocket. An editor
(this process, aiohttp with its client certificate) POSTs new FrAppointmentSAS
appointments:

- **paced**: one at a time; each timed from the request to the HTTP answer and to the
  ``appointment.received`` event on the desk;
- **saturated**: ``--concurrency`` requests always in flight; appointments per second,
  and the hub's own CPU per appointment (its process's user + system time).

Same-run baseline: the same requests, over the same mutual TLS, to a bare aiohttp
server in a process of its own that reads the JSON and answers 201 (no checks, no
database, no event): what TLS, HTTP and Python cost before sasdesk does anything. The
editor, the desk and both servers share this machine's cores: the saturated figures are
bounded by that (``cpus``, ``load_average`` in the JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.bench.flow import free_port, summary
from app.bench.hubproc import bench_env, start_hubs
from app.bench.pki import Pki, make_pki
from app.hub.events import EventName

PASSWORD = "Régul@tion-15-SAS"
RPPS = "10100050075"
EDITOR = ("rdv.bench-editor.example", "Editeur Bench")
PROFILE = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentSAS"
OPERATOR = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
IDNPS = {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                     "code": "IDNPS"}]}  # fmt: skip
NATIONAL = "urn:oid:1.2.250.1.71.4.2.1"
REGULATOR = "810001234567"


def editor_appointment(identifier: str, start: datetime, status: str = "booked") -> dict[str, Any]:
    """A FrAppointmentSAS as an editor sends it (the guide's ExampleAppointmentBooked)."""
    return {
        "resourceType": "Appointment",
        "meta": {"profile": [PROFILE]},
        "extension": [
            {
                "url": OPERATOR,
                "valueReference": {
                    "identifier": {"type": IDNPS, "system": NATIONAL, "value": REGULATOR}
                },
            }
        ],  # fmt: skip
        "identifier": [{"system": "urn:oid:1.2.250.1.999.9.1", "value": identifier}],
        "status": status,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=15)).isoformat(),
        "created": datetime.now(UTC).isoformat(),
        "participant": [
            {
                "actor": {"identifier": {"type": IDNPS, "system": NATIONAL, "value": "8" + RPPS}},
                "status": "accepted",
            }
        ],  # fmt: skip
    }


def prepare_db(url: str) -> None:
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.directory.models import Effecteur
    from app.domain.enums import Role
    from app.hub.auth import create_user

    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as s:
        create_user(s, "sup", "Superviseur", Role.SUPERVISEUR, PASSWORD)
        create_user(s, "mrl", "Dr Claire Martin", Role.MRL, PASSWORD, REGULATOR)
        s.add(Effecteur(rpps=RPPS, first_name="Cécile", last_name="Hérault"))
    engine.dispose()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    answer_ms: list[float]
    event_ms: list[float]
    seconds: float
    cpu_s: float


async def watch_desk(
    url: str, waiting: dict[str, asyncio.Future[float]], ready: asyncio.Event
) -> None:
    """The supervisor's desk: logged in, then each ``appointment.received`` whose
    identifier is awaited in ``waiting`` resolves its future with the time it was seen."""
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        await ws.recv()  # welcome
        await ws.send(json.dumps({"type": "login", "id": 1, "username": "sup",
                                  "password": PASSWORD, "desk": "bench"}))  # fmt: skip
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == "error":
                raise RuntimeError(f"connexion du poste refusée : {message}")
            if message.get("type") == "ok":
                break
        ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message.get("event") != EventName.APPOINTMENT_RECEIVED:
                continue
            future = waiting.get(message["data"]["appointment"]["identifier"])
            if future is not None and not future.done():
                future.set_result(time.perf_counter())


class Driver:
    """The editor's client and, for the hub, the supervisor's desk."""

    def __init__(self, base: str, pki: Pki, pid: int, desk_url: str | None):
        self.base = base
        self.pid = pid
        self.desk_url = desk_url
        self.tls = ssl.create_default_context(cafile=str(pki.ca))
        self.tls.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)

    async def _desk(self, ready: asyncio.Event) -> None:
        assert self.desk_url is not None
        await watch_desk(self.desk_url, self.waiting, ready)

    async def _one(self, http: Any, n: int, phase: Phase) -> None:
        identifier = str(uuid.uuid4())
        body = editor_appointment(identifier, self.start + timedelta(minutes=15 * n))
        if self.desk_url is not None:
            self.waiting[identifier] = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        async with http.post(f"{self.base}/Appointment", json=body) as answer:
            await answer.read()
            if answer.status != 201:
                raise RuntimeError(f"réponse {answer.status} : {await answer.text()}")
        phase.answer_ms.append((time.perf_counter() - t0) * 1000)
        if self.desk_url is not None:
            # Popped only once seen: the hub writes its events to the desks at the next
            # turn of its loop, so the editor's answer may arrive before the desk's event.
            try:
                seen = await asyncio.wait_for(self.waiting[identifier], 30)
            finally:
                self.waiting.pop(identifier)
            phase.event_ms.append((seen - t0) * 1000)

    async def run(self, paced: int, saturated: int, concurrency: int) -> tuple[Phase, Phase]:
        import aiohttp

        desk: asyncio.Task[None] | None = None
        if self.desk_url is not None:
            ready = asyncio.Event()
            desk = asyncio.create_task(self._desk(ready))
            await asyncio.wait_for(ready.wait(), 30)
        connector = aiohttp.TCPConnector(ssl=self.tls, limit=concurrency)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                for n in range(5):  # warm-up: connections, first imports
                    await self._one(http, 10_000 + n, Phase([], [], 0, 0))
                calm = await self._phase(http, paced, 1, 0)
                busy = await self._phase(http, saturated, concurrency, paced)
        finally:
            if desk is not None:
                desk.cancel()
        return calm, busy

    async def _phase(self, http: Any, count: int, concurrency: int, offset: int) -> Phase:
        phase = Phase([], [], 0, 0)
        queue = list(range(offset, offset + count))
        cpu0, t0 = _cpu_s(self.pid), time.perf_counter()

        async def worker() -> None:
            while queue:
                await self._one(http, queue.pop(0), phase)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        phase.seconds = time.perf_counter() - t0
        phase.cpu_s = _cpu_s(self.pid) - cpu0
        return phase


def _figures(calm: Phase, busy: Phase, count: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "paced_answer_ms": summary(calm.answer_ms),
        "saturated_per_s": round(count / busy.seconds, 1),
        "saturated_answer_ms": summary(busy.answer_ms),
        "server_cpu_ms_per_appointment": round(busy.cpu_s * 1000 / count, 3),
    }
    if calm.event_ms:
        out["paced_event_ms"] = summary(calm.event_ms)
        out["saturated_event_ms"] = summary(busy.event_ms)
    return out


def run_appointments_bench(
    *, paced: int = 100, saturated: int = 400, concurrency: int = 8
) -> dict[str, Any]:
    if not (10 <= paced <= 5000 and 10 <= saturated <= 20000 and 1 <= concurrency <= 64):
        raise ValueError("10 à 5000 rendez-vous au pas, 10 à 20000 en charge, 1 à 64 en parallèle")
    with tempfile.TemporaryDirectory(prefix="sasdesk-bench-rdv-") as tmp:
        where = Path(tmp)
        pki = make_pki(where / "pki", server="127.0.0.1", client=EDITOR)
        url = f"sqlite:///{where / 'bench.sqlite3'}"
        prepare_db(url)
        env = bench_env()
        results: dict[str, Any] = {}
        for name in ("baseline_bare_https", "hub"):
            ws_port, http_port = free_port(), free_port()
            command = [sys.executable, "-m", "app.bench.appointments", name, url,
                       str(ws_port), str(http_port), str(where / "pki")]  # fmt: skip
            (proc,) = start_hubs([command], [http_port], env)
            try:
                desk = f"ws://127.0.0.1:{ws_port}" if name == "hub" else None
                driver = Driver(f"https://127.0.0.1:{http_port}/fhir", pki, proc.pid, desk)
                calm, busy = asyncio.run(driver.run(paced, saturated, concurrency))
            finally:
                proc.terminate()
                proc.wait(20)
            results[name] = _figures(calm, busy, saturated)
    hub, bare = results["hub"], results["baseline_bare_https"]
    return {
        "paced": paced,
        "saturated": saturated,
        "concurrency": concurrency,
        "fhir_endpoint": hub,
        "baseline_bare_https": bare,
        "ratio_paced_answer_p50": _ratio(
            hub["paced_answer_ms"]["p50"], bare["paced_answer_ms"]["p50"]
        ),
        "ratio_saturated_per_s": _ratio(hub["saturated_per_s"], bare["saturated_per_s"]),
        "ratio_server_cpu": _ratio(
            hub["server_cpu_ms_per_appointment"], bare["server_cpu_ms_per_appointment"]
        ),  # fmt: skip
        "machine_bound": "the editor (or the platform and the broker), the desk and the server "
        "share these cores",
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _serve(kind: str, url: str, ws_port: int, http_port: int, pki_dir: Path) -> None:
    """A child process: the hub with its endpoint, or the bare HTTPS baseline."""
    from app.appointments.endpoint import server_tls

    pki = Pki.at(pki_dir)
    if kind == "hub":
        from app.appointments.settings import AppointmentSettings, EditorCertificate
        from app.config.settings import HubSettings
        from app.room import Hub

        appointments = AppointmentSettings(
            cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca,
            editors=(EditorCertificate("bench", *EDITOR),), port=http_port,
        )  # fmt: skip
        hub = Hub(url, "127.0.0.1", ws_port, settings=HubSettings(sections=(appointments,)))
        asyncio.run(hub.serve_forever())
        return
    from aiohttp import web

    async def create(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        headers = {"Location": f"/fhir/Appointment/{body['identifier'][0]['value']}"}
        return web.Response(status=201, headers=headers, text="{}",
                            content_type="application/fhir+json")  # fmt: skip

    app = web.Application()
    app.router.add_post("/fhir/Appointment", create)
    tls = server_tls(pki.server_cert, pki.server_key, pki.ca)
    web.run_app(app, host="127.0.0.1", port=http_port, ssl_context=tls, print=None,
                access_log=None)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paced", type=int, default=100, help="rendez-vous envoyés un à un")
    parser.add_argument("--saturated", type=int, default=400, help="rendez-vous en charge")
    parser.add_argument("--concurrency", type=int, default=8, help="requêtes en vol en charge")
    parser.add_argument(
        "--sans-hubsante",
        action="store_true",
        help="sans la moitié Hub Santé (RS-SAS-RDV de la plateforme par RabbitMQ)",
    )
    parser.add_argument("--json", action="store_true")


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
