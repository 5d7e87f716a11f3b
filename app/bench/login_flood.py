"""``sasdesk bench login-flood``: what a flood of wrong passwords does to a working desk.

One hub in its own process on a fresh database (temporary SQLite unless ``--db``), or
``--hubs N`` hubs on one PostgreSQL (``--pg-temp``: a throwaway cluster), the flooders
spread over them as a room's desks are. A logged-in N1 desk (on the first hub) sends
paced ``call.offered`` intents (each one a write on the single writer) and times every
reply: first alone (the same-run baseline), then while ``flooders`` sockets send wrong
passwords as fast as the hubs answer them. With the
throttle off (the default here) every attempt costs a real argon2 check and a count in
the database: the worst case for the hub; ``--throttle on`` measures the hub as
configured (the flood is soon refused without a hash). An honest login (the right
password, another account, on the last hub) is timed alone and at the end of the flood:
the flooded account's checks have their own thread, so it does not wait behind the
guesses. Bounded: ``intents`` per phase and at most ``seconds`` per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from app.bench.flow import _cpu_seconds, free_port, summary
from app.bench.hubproc import start_hubs
from app.client.hub_client import HubClient
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import User
from app.domain.enums import Role
from app.flow import protocol as fp
from app.hub import protocol as p
from app.hub.auth import hash_password

PASSWORD = "bench"
#: Settings of the hub with the throttle off: every wrong password reaches argon2.
UNTHROTTLED = {
    "throttle_after": 10**9,
    "lock_after": 10**9,
    "address_throttle_after": 10**9,
    "address_lock_after": 10**9,
}


def prepare_db(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    hashed = hash_password(PASSWORD)
    with make_sessionmaker(engine).begin() as s:
        for name, role in (("desk", Role.ARM_N1), ("target", Role.ARM_N1)):
            s.add(User(username=name, display_name=name, role=str(role), password_hash=hashed))
    engine.dispose()


async def _desk_phase(
    desk: HubClient, phase: str, intents: int, interval: float, seconds: float
) -> list[float]:
    """Paced intents (open loop would pile up; one in flight, as a desk does)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    latencies: list[float] = []
    for n in range(intents):
        if loop.time() > deadline:
            break
        t0 = time.perf_counter()
        await desk.call(fp.CallOffered, call_ref=f"{phase}-{n}", line="15")
        latencies.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(interval)
    return latencies


async def _honest_login(url: str) -> float:
    client = HubClient(url, desk="bench-late", reconnect=False)
    await client.connect()
    t0 = time.perf_counter()
    try:
        await client.login("desk", PASSWORD, timeout=120)
        return round((time.perf_counter() - t0) * 1000, 3)
    finally:
        await client.close()


async def _flooder(url: str, stop: asyncio.Event, codes: Counter[str]) -> None:
    async with connect(url) as ws:
        await ws.recv()  # welcome
        while not stop.is_set():
            attempt = p.Login(username="target", password="wrong-guess").wire()
            await ws.send(json.dumps({**attempt, "id": 1}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 120))
            codes[str(reply.get("code", reply.get("type")))] += 1


async def drive(
    urls: list[str], flooders: int, intents: int, interval: float, seconds: float
) -> dict[str, Any]:
    url = urls[0]
    alone = await _honest_login(urls[-1])
    desk = HubClient(url, desk="bench-desk", reconnect=False)
    await desk.connect()
    await desk.login("desk", PASSWORD)
    try:
        baseline = await _desk_phase(desk, "alone", intents, interval, seconds)
        stop = asyncio.Event()
        codes: Counter[str] = Counter()
        flood = [
            asyncio.create_task(_flooder(urls[n % len(urls)], stop, codes)) for n in range(flooders)
        ]
        await asyncio.sleep(0.5)  # the flood is under way before the first intent
        started = time.perf_counter()
        flooded = await _desk_phase(desk, "flood", intents, interval, seconds)
        elapsed = time.perf_counter() - started
        honest = await _honest_login(urls[-1])  # the right password, behind the flood
        stop.set()
        await asyncio.gather(*flood)
    finally:
        await desk.close()
    before, during = summary(baseline), summary(flooded)
    return {
        "baseline_ms": before,
        "flood_ms": during,
        "ratio_p50": round(during["p50"] / before["p50"], 2) if before["p50"] else None,
        "ratio_p99": round(during["p99"] / before["p99"], 2) if before["p99"] else None,
        "honest_login_alone_ms": alone,
        "honest_login_during_flood_ms": honest,
        "flood_attempts": sum(codes.values()),
        "flood_attempts_per_second": round(sum(codes.values()) / elapsed, 1),
        "flood_replies": dict(codes),
    }


def run_login_flood_bench(
    *,
    flooders: int = 32,
    intents: int = 200,
    interval_ms: float = 20.0,
    seconds: float = 60.0,
    throttle: bool = False,
    db_url: str | None = None,
    hubs: int = 1,
    pg_temp: bool = False,
) -> dict[str, Any]:
    if not (1 <= flooders <= 256 and 1 <= intents <= 5000 and 0 < seconds <= 600):
        raise ValueError("1–256 sockets, 1–5000 intentions par phase, 0–600 s par phase")
    if not 1 <= hubs <= 8:
        raise ValueError("1 à 8 hubs")
    if pg_temp:
        from app.bench.pgtemp import postgres_cluster

        with postgres_cluster() as url:
            return run_login_flood_bench(
                flooders=flooders, intents=intents, interval_ms=interval_ms, seconds=seconds,
                throttle=throttle, db_url=url, hubs=hubs,
            )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="sasdesk-bench-login-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        if hubs > 1 and url.startswith("sqlite"):
            raise ValueError(
                "plusieurs hubs demandent PostgreSQL (--db postgresql://… ou --pg-temp)"
            )
        prepare_db(url)
        ports = [free_port() for _ in range(hubs)]
        commands = [
            [sys.executable, "-m", "app.bench.login_flood", url, str(port)]
            + ["on" if throttle else "off"]
            for port in ports
        ]
        procs = start_hubs(commands, ports, {**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            urls = [f"ws://127.0.0.1:{port}" for port in ports]
            result = asyncio.run(drive(urls, flooders, intents, interval_ms / 1000, seconds))
            per_hub = [round(_cpu_seconds(hub.pid), 2) for hub in procs]
            result["hub_cpu_seconds"] = round(sum(per_hub), 2)
            result["hub_cpu_seconds_each"] = per_hub
        finally:
            for hub in procs:
                hub.terminate()
            for hub in procs:
                hub.wait(20)
    result.update(
        hubs=hubs,
        flooders=flooders,
        intents_per_phase=intents,
        interval_ms=interval_ms,
        throttle="on" if throttle else "off",
        db=url.split(":", 1)[0],
        cpus=os.cpu_count(),
        load_average=[round(x, 2) for x in os.getloadavg()],
    )
    return result


def _serve(url: str, port: int, throttle: str) -> None:
    """The hub process (``python -m app.bench.login_flood URL PORT on|off``)."""
    from dataclasses import replace

    from app.config.settings import HubSettings, SessionSettings
    from app.room import Hub

    sessions = SessionSettings() if throttle == "on" else replace(SessionSettings(), **UNTHROTTLED)
    hub = Hub(url, "127.0.0.1", port, settings=HubSettings(sessions=sessions))
    asyncio.run(hub.serve_forever())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flooders", type=int, default=32, help="sockets envoyant de faux mots de passe"
    )
    parser.add_argument("--intents", type=int, default=200, help="intentions du poste, par phase")
    parser.add_argument(
        "--interval-ms", type=float, default=20.0, help="pause entre deux intentions"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="durée maximale d'une phase")
    parser.add_argument(
        "--throttle",
        choices=("off", "on"),
        default="off",
        help="off : chaque essai coûte un argon2 (le pire cas) ; on : réglages du hub",
    )
    parser.add_argument(
        "--db", default=None, metavar="URL", help="base (défaut : SQLite temporaire)"
    )
    parser.add_argument(
        "--hubs", type=int, default=1, help="hubs sur la même base PostgreSQL (sockets réparties)"
    )
    parser.add_argument(
        "--pg-temp", action="store_true", help="démarre un PostgreSQL jetable pour la mesure"
    )
    parser.add_argument("--json", action="store_true")  # fmt: skip


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
