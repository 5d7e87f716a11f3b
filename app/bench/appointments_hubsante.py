"""``sasdesk bench appointments``, its Hub Santé half: an RS-SAS-RDV from the national
platform, from its publication to the ``appointment.received`` event on a desk.

A private RabbitMQ laid out like the Hub Santé (``app.interop.hubsante.broker``, TLS with
client certificates) and its dispatcher; the national platform (``fr.health.ptfsas``, a
peer in this process) publishes new appointments to the SAMU's client; one hub in its
own process, configured with ``[hubsante]``, applies each one (the appointments table,
its journal line, its event, the RC-REF acknowledgement back to the platform); a
supervisor's desk is logged in over the websocket.

- **paced**: one at a time; each timed from the publication to the event on the desk and
  to the acknowledgement back at the platform;
- **saturated**: all published at once; appointments per second to the last event, and
  the hub process's CPU per appointment.

Same-run baseline: the broker round trip without the hub, the same messages published
by the platform to itself through the same broker and dispatcher (paced: publication to
delivery; saturated: per second). The platform, the broker, the dispatcher, the desk and
the hub share this machine's cores: the saturated figures are bounded by that.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.bench.appointments import Phase, _cpu_s, prepare_db, watch_desk
from app.bench.flow import free_port, summary
from app.bench.hubproc import bench_env, start_hubs

SAS = "fr.health.sas017"
PTFSAS = "fr.health.ptfsas"


def rdv(identifier: str, start: datetime) -> dict[str, Any]:
    """An RS-SAS-RDV create as the platform sends it (the guide's fields)."""
    from app.interop.hubsante.messages import iso

    return {
        "appointmentId": identifier,
        "method": "CreateAppointment",
        "created": iso(datetime.now(UTC).replace(microsecond=0)),
        "status": "booked",
        "orientationCategory": "PS",
        "start": iso(start),
        "end": iso(start + timedelta(minutes=20)),
        "practitioner": {"rppsId": "810100050075", "lastName": "HÉRAULT",
                         "firstName": "Cécile"},
        "regulator": {"regulatorId": "810001234567", "regulatorName": "MARTIN",
                      "regulatorFirstname": "Claire", "regulatorEmail": "regul@bench.test"},
    }  # fmt: skip


class PlatformDriver:
    """The platform's peer and the supervisor's desk, timing each appointment."""

    def __init__(self, broker: Any, pid: int | None, desk_url: str | None):
        self.broker = broker
        self.pid = pid
        self.desk_url = desk_url
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)

    def _envelope(self, n: int, to: str) -> tuple[str, dict[str, Any]]:
        from app.db.types import utcnow
        from app.interop.hubsante import messages

        identifier = f"bench-{uuid.uuid4()}"
        body = rdv(identifier, self.start + timedelta(minutes=20 * n))
        return identifier, messages.build(PTFSAS, to, "Report", "appointment", body, now=utcnow())

    async def _desk(self, ready: asyncio.Event) -> None:
        assert self.desk_url is not None
        await watch_desk(self.desk_url, self.waiting, ready)

    async def run(self, paced: int, saturated: int) -> tuple[Phase, Phase]:
        from app.interop.hubsante.peer import Dispatcher, Peer

        dispatcher, peer = Dispatcher(self.broker), Peer(self.broker, PTFSAS)
        await dispatcher.start()
        await peer.start()
        desk: asyncio.Task[None] | None = None
        try:
            if self.desk_url is not None:
                ready = asyncio.Event()
                desk = asyncio.create_task(self._desk(ready))
                await asyncio.wait_for(ready.wait(), 30)
            for n in range(5):  # warm-up: channels, first imports
                await self._one(peer, 10_000 + n, Phase([], [], 0, 0))
            calm = Phase([], [], 0, 0)
            for n in range(paced):
                await self._one(peer, n, calm)
            busy = await self._burst(peer, saturated, paced)
        finally:
            if desk is not None:
                desk.cancel()
            await peer.stop()
            await dispatcher.stop()
        return calm, busy

    def _target(self) -> str:
        return SAS if self.desk_url is not None else PTFSAS

    def _done(self, peer: Any) -> tuple[str, int]:
        """The queue that tells a message is through, and how many it holds now."""
        queue = "ack" if self.desk_url is not None else "message"
        return queue, len(peer.received[queue])

    async def _one(self, peer: Any, n: int, phase: Phase) -> None:
        identifier, envelope = self._envelope(n, self._target())
        queue, before = self._done(peer)
        if self.desk_url is not None:
            self.waiting[identifier] = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        await peer.publish(envelope)
        if self.desk_url is not None:
            try:
                seen = await asyncio.wait_for(self.waiting[identifier], 30)
            except TimeoutError:
                raise RuntimeError(
                    f"RS-SAS-RDV {identifier} jamais vu sur le poste en 30 s ; la plateforme a "
                    f"reçu {len(peer.received['ack'])} acquittement(s) et sur info : "
                    f"{json.dumps(peer.received['info'])[-1500:]}"
                ) from None
            finally:
                self.waiting.pop(identifier)
            phase.event_ms.append((seen - t0) * 1000)
        await peer.wait_for(queue, before + 1, timeout=30)
        phase.answer_ms.append((time.perf_counter() - t0) * 1000)

    async def _burst(self, peer: Any, count: int, offset: int) -> Phase:
        phase = Phase([], [], 0, 0)
        built = [self._envelope(offset + n, self._target()) for n in range(count)]
        queue, before = self._done(peer)
        loop = asyncio.get_running_loop()
        if self.desk_url is not None:
            self.waiting.update({i: loop.create_future() for i, _ in built})
        cpu0 = _cpu_s(self.pid) if self.pid is not None else 0.0
        t0 = time.perf_counter()
        for _, envelope in built:
            await peer.publish(envelope)
        if self.desk_url is not None:
            for identifier, _ in built:
                seen = await asyncio.wait_for(self.waiting[identifier], 120)
                del self.waiting[identifier]
                phase.event_ms.append((seen - t0) * 1000)
        await peer.wait_for(queue, before + count, timeout=120)
        phase.seconds = time.perf_counter() - t0
        phase.cpu_s = (_cpu_s(self.pid) - cpu0) if self.pid is not None else 0.0
        return phase


def run_hubsante_half(*, paced: int, saturated: int) -> dict[str, Any]:
    """The Hub Santé figures beside their broker-only baseline, or why there are none."""
    from app.interop.hubsante import broker as rmq

    if not rmq.available():
        return {"skipped": "rabbitmq-server absent (apt-get install rabbitmq-server)"}
    broker = rmq.Broker([SAS, PTFSAS])
    broker.start()
    try:
        base_calm, base_busy = asyncio.run(PlatformDriver(broker, None, None).run(paced, saturated))
        with tempfile.TemporaryDirectory(prefix="sasdesk-bench-rdv-hs-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            prepare_db(url)
            client = broker.clients[SAS]
            config = Path(tmp) / "hubsante.json"
            config.write_text(
                json.dumps(
                    {
                        "url": broker.url(SAS),
                        "ca": str(broker.ca),
                        "cert": str(client.cert),
                        "key": str(client.key),
                    }
                )
            )
            ws_port = free_port()
            command = [sys.executable, "-m", "app.bench.appointments_hubsante", url,
                       str(ws_port), str(config)]  # fmt: skip
            (proc,) = start_hubs([command], [ws_port], bench_env())
            try:
                driver = PlatformDriver(broker, proc.pid, f"ws://127.0.0.1:{ws_port}")
                calm, busy = asyncio.run(driver.run(paced, saturated))
            finally:
                proc.terminate()
                proc.wait(20)
    finally:
        broker.close()
    hub: dict[str, Any] = {
        "paced_event_ms": summary(calm.event_ms),
        "paced_ack_ms": summary(calm.answer_ms),
        "saturated_per_s": round(saturated / busy.seconds, 1),
        "saturated_event_ms": summary(busy.event_ms),
        "server_cpu_ms_per_appointment": round(busy.cpu_s * 1000 / saturated, 3),
    }
    bare: dict[str, Any] = {
        "paced_round_trip_ms": summary(base_calm.answer_ms),
        "saturated_per_s": round(saturated / base_busy.seconds, 1),
    }
    return {
        "hub": hub,
        "baseline_broker_round_trip": bare,
        "ratio_paced_p50": _ratio(hub["paced_event_ms"]["p50"], bare["paced_round_trip_ms"]["p50"]),
        "ratio_saturated_per_s": _ratio(hub["saturated_per_s"], bare["saturated_per_s"]),
        "broker": "rabbitmq-server (Debian), TLS + EXTERNAL, 127.0.0.1",
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _serve(url: str, ws_port: int, config: Path) -> None:
    """The child process: a hub with the Hub Santé connector."""
    from app.config.settings import HubSanteSettings, HubSettings
    from app.room import Hub

    c = json.loads(config.read_text())
    hubsante = HubSanteSettings(client_id=SAS, url=c["url"], ca_file=Path(c["ca"]),
                                cert_file=Path(c["cert"]), key_file=Path(c["key"]))  # fmt: skip
    hub = Hub(url, "127.0.0.1", ws_port, settings=HubSettings(hubsante=hubsante))
    asyncio.run(hub.serve_forever())


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
