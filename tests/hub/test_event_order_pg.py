"""Event seq on PostgreSQL has gaps (aborted transactions) and two hubs may deliver one
dossier's events out of commit order: desks rely on neither contiguity nor arrival
order, only on each dossier's version (issue 9, defect 12; docs/protocol.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from app.config.settings import HubSettings
from app.db.engine import make_engine
from app.room import Hub
from tests.hub.desks import logged_client
from tests.waits import until

pytestmark = pytest.mark.peers


def abort_a_write(url: str) -> None:
    """A transaction that takes an event number and aborts (as under kill -9)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        trans = conn.begin()
        conn.execute(text("INSERT INTO events (at, type, data) VALUES (now(), 'aborted', '{}')"))
        trans.rollback()
    engine.dispose()


async def test_desks_follow_versions_not_contiguous_seq_across_two_hubs(pg_url: str) -> None:
    a = Hub(pg_url, "127.0.0.1", 0, settings=HubSettings())
    b = Hub(pg_url, "127.0.0.1", 0, settings=HubSettings())
    await a.start()
    await b.start()
    try:
        n1, mrl = await logged_client(a, "n1"), await logged_client(b, "mrl")
        sup_a, watcher = await logged_client(a, "sup"), await logged_client(b, "sup")
        seen: list[dict[str, Any]] = []
        watcher.on_event.append(seen.append)
        await n1.request("call.offered", call_ref="gap-1", line="116117")
        d = (await n1.request("call.answered", call_ref="gap-1"))["dossier"]
        await n1.request("dossier.qualify", dossier_id=d["id"], priority="P2")
        abort_a_write(pg_url)
        await mrl.request("dossier.take", dossier_id=d["id"])
        abort_a_write(pg_url)

        async def notes() -> None:
            for k in range(15):
                await sup_a.request("dossier.note", dossier_id=d["id"], text=f"note {k}")

        async def updates() -> None:
            for k in range(15):
                await mrl.request("dossier.update", dossier_id=d["id"],
                                  fields={"motif": f"motif {k}"})  # fmt: skip

        await asyncio.gather(notes(), updates())
        final = (await mrl.request("dossier.get", dossier_id=d["id"]))["dossier"]
        await until(
            lambda: (
                d["id"] in watcher.dossiers
                and watcher.dossiers[d["id"]]["version"] == final["version"]
            ),
            "the watching desk reaches the final version",
            timeout=5,
        )
        mine = [m for m in seen if m.get("dossier", {}).get("id") == d["id"]]
        seqs = [m["seq"] for m in mine]
        assert len(set(seqs)) == len(seqs) == 2 + 1 + 30  # qualified, taken, notes, updates
        assert max(seqs) - min(seqs) + 1 > len(seqs), "the aborted writes left gaps"
        # Whatever the arrival order, what the desk holds never goes back in time…
        versions = [m["dossier"]["version"] for m in mine]
        assert versions == sorted(versions)
        # …and ends at the dossier as it is.
        assert watcher.dossiers[d["id"]] == final
        for c in (n1, mrl, sup_a, watcher):
            await c.close()
    finally:
        await a.stop()
        await b.stop()
