"""A hub killed -9 while desks' intents are being applied several per transaction
loses none it acknowledged: every acknowledged call and dossier is in the database,
with its events, and nothing half-applied is (a call answered has its dossier)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.bench.flow import free_port
from app.client.hub_client import HubClient, HubError
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Call, Dossier, Event
from app.hub.events import EventName
from tests.conftest import PASSWORD

DESKS = ("n1", "n1b", "sup")


def start_hub(url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "hub", "--db", url, "--port", str(port)]
        + ["--recordings", str(tmp / "recordings")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def load_then_kill(url: str, tmp: Path) -> dict[str, int | None]:
    """Three desks answer calls as fast as the hub acknowledges; kill -9 under load.

    Returns every acknowledged call reference, with its dossier id once ``call.answered``
    was acknowledged (None if only ``call.offered`` was)."""
    port = free_port()
    hub = start_hub(url, port, tmp)
    acked: dict[str, int | None] = {}
    try:
        clients = []
        for name in DESKS:
            client = HubClient(f"ws://127.0.0.1:{port}", desk=name, reconnect=False)
            for _ in range(300):  # the hub migrates, then listens
                try:
                    await client.connect()
                    break
                except HubError:
                    await asyncio.sleep(0.1)
            await client.login(name, PASSWORD)
            clients.append(client)

        async def desk(client: HubClient, k: int) -> None:
            n = 0
            while True:
                ref = f"crash-{k}-{n}"
                await client.request("call.offered", call_ref=ref, line="15", caller="0600000000")
                acked[ref] = None
                reply = await client.request("call.answered", call_ref=ref)
                acked[ref] = int(reply["dossier"]["id"])
                n += 1

        runs = [asyncio.create_task(desk(c, k)) for k, c in enumerate(clients)]
        deadline = asyncio.get_running_loop().time() + 60
        while len(acked) < 60:  # well under way
            assert hub.poll() is None and not any(r.done() for r in runs), "hub or desk failed"
            assert asyncio.get_running_loop().time() < deadline, "no load reached the hub"
            await asyncio.sleep(0.05)
        os.kill(hub.pid, signal.SIGKILL)
        await asyncio.wait(runs, timeout=10)
        for run in runs:  # each desk stopped on its lost connection
            assert run.done() and run.exception() is not None
        for client in clients:
            await client.close()
    finally:
        hub.kill()
        hub.wait(10)
    return dict(acked)


def check_nothing_acknowledged_is_lost(url: str, acked: dict[str, int | None]) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        calls = {c.call_ref: c for c in s.scalars(select(Call))}
        dossiers = {d.call_id: d for d in s.scalars(select(Dossier))}
        opened = set(
            s.scalars(select(Event.dossier_id).where(Event.type == EventName.DOSSIER_OPENED))
        )
        offered = set(s.scalars(select(Event.call_id).where(Event.type == EventName.CALL_OFFERED)))
    engine.dispose()
    assert len(acked) >= 60
    for ref, dossier_id in acked.items():
        assert ref in calls, f"acknowledged call {ref} lost"
        assert calls[ref].id in offered
        if dossier_id is not None:
            assert dossiers[calls[ref].id].id == dossier_id, f"acknowledged answer {ref} lost"
            assert dossier_id in opened
    for call in calls.values():  # atomic: an answered call always has its dossier
        assert (call.answered_at is None) == (call.id not in dossiers)


def test_hub_killed_under_load_loses_no_acknowledged_intent_sqlite(
    tmp_path: Path, sessions: sessionmaker[Session], db_url: str
) -> None:
    acked = asyncio.run(load_then_kill(db_url, tmp_path))
    check_nothing_acknowledged_is_lost(db_url, acked)


@pytest.mark.peers
def test_hub_killed_under_load_loses_no_acknowledged_intent_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    acked = asyncio.run(load_then_kill(pg_url, tmp_path))
    check_nothing_acknowledged_is_lost(pg_url, acked)
