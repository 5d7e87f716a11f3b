"""``sasdesk bench psc-login``: how long a Pro Santé Connect login takes through a hub.

One hub in its own process on a temporary SQLite database, configured as a room's hub
for PSC (the CIBA flow), against the PSC double (app.bench.psc_double) started here on
127.0.0.1, which approves at the first poll. ``logins`` PSC logins (``login.psc.start``
then ``login.psc.wait``, each on a fresh connection, one after the other) are timed from
the start intent to the login reply, beside a same-run baseline of as many password
logins (argon2) on the same hub. PSC's polling interval (``--interval``, 1 s in ANS's own
stubs) is the floor of a PSC login: the JSON gives it, and the hub's own share (the
login time less that interval).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from app.bench.flow import free_port, percentile, summary
from app.bench.hubproc import start_hubs
from app.bench.psc_double import Person, PscDouble
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.domain.enums import Role
from app.hub import protocol as p
from app.hub.auth import create_user

PASSWORD = "Régul@tion-15-SAS"
NATIONAL_ID = "810001234567"
#: The client secret reaches the hub process through its environment, not its arguments.
SECRET_ENV = "SASDESK_BENCH_PSC_SECRET"


def prepare_db(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as s:
        create_user(s, "mrl", "Dr Claire Martin", Role.MRL, PASSWORD, NATIONAL_ID)
    engine.dispose()


async def _ask(ws: Any, intent: p.Intent) -> dict[str, Any]:
    await ws.send(json.dumps({**intent.wire(), "id": 1}))
    while True:
        reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if reply.get("type") in ("ok", "error"):
            return reply


async def _psc_login(url: str) -> float:
    async with connect(url) as ws:
        await ws.recv()  # welcome
        t0 = time.perf_counter()
        start = await _ask(ws, p.LoginPscStart(national_id=NATIONAL_ID, desk="bench"))
        if start.get("type") != "ok":
            raise RuntimeError(f"login.psc.start refusé : {start}")
        reply = await _ask(ws, p.LoginPscWait(request=start["request"]))
        elapsed = time.perf_counter() - t0
        if reply.get("type") != "ok" or reply.get("auth") != "psc":
            raise RuntimeError(f"login.psc.wait refusé : {reply}")
        return elapsed


async def _password_login(url: str) -> float:
    async with connect(url) as ws:
        await ws.recv()
        t0 = time.perf_counter()
        reply = await _ask(ws, p.Login(username="mrl", password=PASSWORD, desk="bench"))
        elapsed = time.perf_counter() - t0
        if reply.get("type") != "ok":
            raise RuntimeError(f"login refusé : {reply}")
        return elapsed


async def drive(url: str, logins: int) -> dict[str, list[float]]:
    password = [await _password_login(url) for _ in range(logins)]
    psc = [await _psc_login(url) for _ in range(logins)]
    return {"password": password, "psc": psc}


def _ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {**summary(ms), "p95": round(percentile(ms, 95), 3)}


def run_psc_login_bench(*, logins: int = 20, interval: int = 1) -> dict[str, Any]:
    if not (1 <= logins <= 500 and 0 <= interval <= 10):
        raise ValueError("1 à 500 connexions, intervalle de 0 à 10 s")
    psc = PscDouble(interval=interval)
    psc.add(Person(NATIONAL_ID, pending_polls=0))  # approves at the first poll
    psc.start()
    try:
        with tempfile.TemporaryDirectory(prefix="sasdesk-bench-psc-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            prepare_db(url)
            port = free_port()
            command = [sys.executable, "-m", "app.bench.psc_login", url, str(port),
                       psc.discovery_url, psc.client_id, str(interval)]  # fmt: skip
            env = {**os.environ, "PYTHONUNBUFFERED": "1", SECRET_ENV: psc.client_secret}
            (hub,) = start_hubs([command], [port], env)
            try:
                times = asyncio.run(drive(f"ws://127.0.0.1:{port}", logins))
            finally:
                hub.terminate()
                hub.wait(20)
    finally:
        psc.stop()
    password, psc_ms = _ms(times["password"]), _ms(times["psc"])
    overhead = [max(0.0, t - interval) for t in times["psc"]]
    return {
        "logins": logins,
        "psc_interval_s": interval,
        "password_login_ms": password,
        "psc_login_ms": psc_ms,
        "psc_hub_share_ms": _ms(overhead),
        "ratio_p50": round(psc_ms["p50"] / password["p50"], 2) if password["p50"] else None,
        "ratio_p95": round(psc_ms["p95"] / password["p95"], 2) if password["p95"] else None,
        "psc_token_polls": psc.token_requests.count("urn:openid:params:grant-type:ciba"),
        "hub": "process",
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _serve(url: str, port: int, discovery: str, client_id: str, interval: str) -> None:
    """The hub process (``python -m app.bench.psc_login URL PORT DISCOVERY CLIENT S``)."""
    from app.config.settings import HubSettings
    from app.psc.settings import Policy, PscSettings
    from app.room import Hub

    psc = PscSettings(
        discovery_url=discovery,
        client_id=client_id,
        client_secret=os.environ[SECRET_ENV],
        roles={"MRL": Policy.MAY},
        poll_floor_s=min(1.0, float(interval)),
    )
    hub = Hub(url, "127.0.0.1", port, settings=HubSettings(psc=psc))
    asyncio.run(hub.serve_forever())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--logins", type=int, default=20, help="connexions mesurées, par mode")
    parser.add_argument(
        "--interval",
        type=int,
        default=1,
        help="intervalle d'interrogation donné par PSC, en secondes (1 dans les bouchons ANS)",
    )
    parser.add_argument("--json", action="store_true")


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
