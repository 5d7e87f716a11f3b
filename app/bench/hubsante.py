"""``sasdesk bench hubsante``: messages per second through the Hub Santé connector.

Starts a private RabbitMQ laid out like the Hub Santé (Debian's rabbitmq-server, TLS
with client certificates; ``app.interop.hubsante.broker``), the hub's dispatcher, an
LRM client and a sasdesk hub (temporary SQLite) with the connector. The LRM publishes
``--messages`` RS-EDA cases (a new case, then updates of it, in turn); a message
counts when its RC-REF acknowledgement is back at the LRM: received, checked against
the official schemas, applied to a dossier in one transaction, journalled, its
acknowledgement built, checked, put in the outbox and published with the broker's
confirmation. Same-run baseline: the same number of messages sent by the LRM to
itself through the same broker and dispatcher (no connector), acknowledged on
receipt. Needs the test extras (certificates are made with ``cryptography``).

``--content appointment``: the national SAS platform (``fr.health.ptfsas``) publishes
RS-SAS-RDV appointments instead (``--cases`` creates, then updates moving their start),
each applied to the appointments table with its journal line and event; the baseline is
the platform sending the same messages to itself.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.interop.hubsante.peer import Peer

SAS = "fr.health.sas017"
LRM = "fr.health.samu017"
PTFSAS = "fr.health.ptfsas"


def _case(i: int, now: str) -> dict[str, Any]:
    return {
        "caseId": f"fr.health.samu017.BENCH{i:06d}",
        "creation": now,
        "perimeter": "SNP",
        "owner": "fr.health.samu017",
        "qualification": {"details": {"priority": "P2", "attribution": "DRM.MRL"}},
        "location": {"city": {"name": "La Rochelle", "inseeCode": "17300"}},
        "initialAlert": {
            "reception": now,
            "caller": {
                "callerContact": {
                    "channel": "PERSONNE",
                    "type": "TEL",
                    "detail": f"+3363998{i % 10000:04d}",
                }
            },
            "notes": [{"creation": now, "freetext": f"appel {i}"}],
        },  # fmt: skip
    }


def _appointment(i: int, cases: int) -> dict[str, Any]:
    """Appointment ``i % cases``: created first, then each round moves its start."""
    from datetime import UTC, datetime, timedelta

    from app.interop.hubsante.messages import iso

    start = datetime(2030, 1, 7, 8, 0, tzinfo=UTC) + timedelta(minutes=20 * (i % cases))
    start += timedelta(days=i // cases)
    return {
        "appointmentId": f"bench-{i % cases:06d}",
        "method": "CreateAppointment" if i < cases else "UpdateAppointment",
        "created": iso(datetime(2030, 1, 6, 9, 0, tzinfo=UTC)),
        "status": "booked",
        "orientationCategory": "PS",
        "start": iso(start),
        "end": iso(start + timedelta(minutes=20)),
        "practitioner": {"rppsId": f"81{i % cases:010d}", "lastName": "BANC",
                         "firstName": "Essai"},
        "regulator": {"regulatorName": "REGUL", "regulatorFirstname": "Essai",
                      "regulatorEmail": "regul@bench.test"},
    }  # fmt: skip


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 3)


async def _baseline(lrm: Peer, envelopes: list[dict[str, Any]]) -> float:
    """Seconds for the envelopes to go peer → dispatcher → peer, nothing else."""
    t0 = time.perf_counter()
    for e in envelopes:
        await lrm.publish(e)
    await lrm.wait_for("message", len(envelopes), timeout=600)
    return time.perf_counter() - t0


async def _acknowledged(
    lrm: Peer, envelopes: list[dict[str, Any]]
) -> tuple[float, dict[str, float], dict[str, float]]:
    """The envelopes sent to the hub's connector and every acknowledgement awaited: the
    seconds, when each was sent and when acknowledged (by distribution id)."""
    from app.interop.hubsante import messages

    sent_at: dict[str, float] = {}
    acked_at: dict[str, float] = {}
    t0 = time.perf_counter()
    watcher_done = asyncio.Event()

    async def watch() -> None:
        seen = 0
        while seen < len(envelopes):
            await lrm.wait_for("ack", seen + 1, timeout=600)
            for m in lrm.received["ack"][seen:]:
                message = messages.message_of(m)
                assert message is not None, m
                ref = message["reference"]["distributionID"]
                acked_at.setdefault(ref, time.perf_counter())
            seen = len(lrm.received["ack"])
        watcher_done.set()

    watcher = asyncio.create_task(watch())
    for e in envelopes:
        sent_at[e["distributionID"]] = time.perf_counter()
        await lrm.publish(e)
    await asyncio.wait_for(watcher_done.wait(), 600)
    await watcher
    return time.perf_counter() - t0, sent_at, acked_at


async def _measure(messages_n: int, cases: int, content: str = "case") -> dict[str, Any]:
    from app.config.settings import HubSanteSettings, HubSettings
    from app.db.types import utcnow
    from app.interop.hubsante import messages
    from app.interop.hubsante.broker import Broker
    from app.interop.hubsante.connector import Connector
    from app.interop.hubsante.peer import Dispatcher, Peer
    from app.room import Hub

    broker = Broker([SAS, LRM, PTFSAS])
    broker.start()
    tmp = Path(tempfile.mkdtemp(prefix="sasdesk-bench-hs-"))
    peer_id = PTFSAS if content == "appointment" else LRM
    now = messages.iso(utcnow())

    def body(i: int) -> tuple[str, dict[str, Any]]:
        if content == "appointment":
            return "appointment", _appointment(i, cases)
        return "createCaseHealth", _case(i % cases, now)

    try:
        # The peer: the LRM sending cases, or the national platform sending appointments.
        dispatcher, lrm = Dispatcher(broker), Peer(broker, peer_id)
        await dispatcher.start()
        await lrm.start()
        # Baseline: peer → dispatcher → peer, nothing else.
        base = [messages.build(peer_id, peer_id, "Report", *body(i), now=utcnow())
                for i in range(messages_n)]  # fmt: skip
        baseline_s = await _baseline(lrm, base)
        c = broker.clients[SAS]
        hub = Hub(f"sqlite:///{tmp / 'hub.sqlite3'}", "127.0.0.1", 0, settings=HubSettings(
            hubsante=HubSanteSettings(client_id=SAS, url=broker.url(SAS), ca_file=broker.ca,
                                      cert_file=c.cert, key_file=c.key)))  # fmt: skip
        await hub.start()
        from app.interop.hubsante.hub import HubSanteExtension

        connector = hub.extension(HubSanteExtension).connector
        assert isinstance(connector, Connector), "the Hub Santé extension did not start"
        await asyncio.wait_for(connector.ready.wait(), 60)
        envelopes = [
            messages.build(peer_id, SAS, "Report" if i < cases else "Update", *body(i),
                           now=utcnow())
            for i in range(messages_n)
        ]  # fmt: skip
        elapsed, sent_at, acked_at = await _acknowledged(lrm, envelopes)
        for _ in range(100):  # the last batch is marked sent just after its confirmation
            if connector.counts["published"] >= messages_n:
                break
            await asyncio.sleep(0.1)
        counts = dict(connector.counts)
        await hub.stop()
        await lrm.stop()
        await dispatcher.stop()
        latencies = [acked_at[k] - sent_at[k] for k in sent_at if k in acked_at]
        return {
            "content": "RS-SAS-RDV" if content == "appointment" else "RS-EDA",
            "messages": messages_n,
            "cases": cases,
            "acknowledged": len(acked_at),
            "connector_messages_per_s": round(messages_n / elapsed, 1),
            "connector_seconds": round(elapsed, 3),
            "round_trip_ms": {"p50": _pct(latencies, 50), "p90": _pct(latencies, 90),
                              "p99": _pct(latencies, 99),
                              "mean": round(statistics.fmean(latencies) * 1000, 3)},
            "baseline_messages_per_s": round(messages_n / baseline_s, 1),
            "ratio_to_baseline": round(baseline_s / elapsed, 3),
            "connector_counts": counts,
            "broker": "rabbitmq-server (Debian), TLS + EXTERNAL, 127.0.0.1",
        }  # fmt: skip
    finally:
        broker.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def run_hubsante_bench(messages: int, cases: int, content: str = "case") -> dict[str, Any]:
    """``messages`` (over ``cases`` distinct dossiers or appointments) through the
    connector, and the same through the broker alone: the figures."""
    return asyncio.run(_measure(messages, cases, content))
