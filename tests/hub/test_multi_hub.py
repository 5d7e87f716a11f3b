"""Two hubs on one PostgreSQL: desks on either see the same room, and a dossier can be
taken only once whichever hub the desks are on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.client.hub_client import HubClient, HubError
from app.hub.payloads import Snapshot
from app.room import Hub
from tests.conftest import PASSWORD
from tests.waits import until

pytestmark = pytest.mark.peers


@pytest.fixture
async def two_hubs(pg_url: str) -> AsyncIterator[tuple[Hub, Hub]]:
    a, b = Hub(pg_url, "127.0.0.1", 0), Hub(pg_url, "127.0.0.1", 0)
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


async def desk(hub: Hub, username: str) -> HubClient:
    client = HubClient(hub.url, desk=username, reconnect=False)
    await client.connect()
    await client.login(username, PASSWORD)
    return client


async def test_events_cross_hubs_and_a_dossier_is_taken_once(two_hubs: tuple[Hub, Hub]) -> None:
    hub_a, hub_b = two_hubs
    n1 = await desk(hub_a, "n1")
    mrl_a = await desk(hub_a, "mrl")
    mrl_b = await desk(hub_b, "mrl2")
    seen_b: list[dict] = []
    mrl_b.on_event.append(seen_b.append)

    await n1.request("call.offered", call_ref="x-1", line="15")
    d = (await n1.request("call.answered", call_ref="x-1"))["dossier"]
    await n1.request("dossier.qualify", dossier_id=d["id"], priority="P2")
    await until(
        lambda: any(m["event"] == "dossier.qualified" for m in seen_b),
        "the other hub's desk told",
        timeout=5,
    )
    qualified = [m for m in seen_b if m["event"] == "dossier.qualified"]
    assert qualified and qualified[0]["dossier"]["queue"] == "SNP"

    results = await asyncio.gather(
        mrl_a.request("dossier.take", dossier_id=d["id"]),
        mrl_b.request("dossier.take", dossier_id=d["id"]),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, HubError)]
    assert len(ok) == 1 and len(refused) == 1 and refused[0].code == "conflict"
    for client in (n1, mrl_a, mrl_b):
        await client.close()


async def test_a_call_forked_to_desks_on_two_hubs_counts_once(two_hubs: tuple[Hub, Hub]) -> None:
    hub_a, hub_b = two_hubs
    n1 = await desk(hub_a, "n1")
    # The same call rings a desk on each hub at the same instant.
    other = HubClient(hub_b.url, reconnect=False)
    await other.connect()
    await other.login("n1b", PASSWORD)  # another ARM's desk (a desk counts once per call)
    replies = await asyncio.gather(
        *(c.request("call.offered", call_ref="fork-x", line="116117") for c in (n1, other))
    )
    assert {r["call"]["id"] for r in replies} == {replies[0]["call"]["id"]}
    assert max(r["call"]["desks_rung"] for r in replies) == 2
    await n1.close()
    await other.close()


async def test_a_large_event_crosses_hubs_read_again_from_the_log(
    two_hubs: tuple[Hub, Hub],
) -> None:
    """An event too large for a NOTIFY payload is named by its seq and read back."""
    hub_a, hub_b = two_hubs
    n1 = await desk(hub_a, "n1")
    sup_b = await desk(hub_b, "sup")
    seen_b: list[dict] = []
    sup_b.on_event.append(seen_b.append)
    await n1.request("call.offered", call_ref="big-1", line="15")
    d = (await n1.request("call.answered", call_ref="big-1"))["dossier"]
    long = "é" * 4000 + "x" * 4000  # far beyond 7,900 bytes once in the payload
    await n1.request("dossier.update", dossier_id=d["id"], fields={"notes": long})
    await until(
        lambda: any(m["event"] == "dossier.updated" for m in seen_b), "heard on hub B", timeout=5
    )
    (updated,) = [m for m in seen_b if m["event"] == "dossier.updated"]
    assert updated["dossier"]["notes"] == long and updated["seq"] > 0
    for client in (n1, sup_b):
        await client.close()


async def test_a_hub_that_lost_its_listen_connection_listens_again_and_resyncs(
    two_hubs: tuple[Hub, Hub], pg_url: str
) -> None:
    """PostgreSQL drops the LISTEN connections: each hub connects again, sends its desks
    a fresh snapshot (events may have been missed), and hears the other hub again."""
    import psycopg

    hub_a, hub_b = two_hubs
    n1 = await desk(hub_a, "n1")
    sup_b = await desk(hub_b, "sup")
    snapshots: list[Snapshot] = []
    sup_b.on_snapshot.append(snapshots.append)
    seen_b: list[dict[str, Any]] = []
    sup_b.on_event.append(seen_b.append)
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
        cur = await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
        )
        assert len(await cur.fetchall()) == 2  # one per hub
    await until(lambda: snapshots, "a fresh snapshot on hub B", timeout=15)
    await until(lambda: hub_a.fanout and hub_a.fanout.listening.is_set(), "A listens", timeout=15)
    await n1.request("call.offered", call_ref="after-1", line="15")
    await until(lambda: any(m["event"] == "call.offered" for m in seen_b), "heard after", timeout=5)
    for client in (n1, sup_b):
        await client.close()
