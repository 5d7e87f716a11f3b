"""``sasdesk bench hubstart``: how long a hub killed -9 takes to serve its desks again.

A hub process (``sasdesk hub``, as the soak and a room start it) is killed -9 and
started again ``--runs`` times while ``--desks`` logged-in hub clients wait for it (the
desk's own client: reconnection, resume, snapshot). Per restart it measures the time
from the new process's start to its listening port, the CPU the process spent until
then (what a loaded machine multiplies), the hub's own phases (imports, extensions,
database, listening: its ``hub.started`` log line), and for each desk the time from
the kill to being ready again. Same-run baseline: ``sasdesk --version`` (an
interpreter and the command line, nothing of the hub).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.bench.flow import PASSWORD, _cpu_seconds, free_port, percentile, prepare_db
from app.bench.hubproc import bench_env, hub_command
from app.domain.enums import Role

STARTED = '"event": "hub.started"'


def _listening(port: int, proc: subprocess.Popen[str], timeout: float) -> float:
    from app.bench.hubproc import wait_port

    wait_port(port, proc, timeout)
    return time.monotonic()


def _phases(log: Path, spawned: float) -> dict[str, float]:
    """Durations from the last ``hub.started`` line of the hub's log (app.hub.server):
    its marks are CLOCK_MONOTONIC readings, comparable with this process's."""
    marks: dict[str, float] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if STARTED in line:
            marks = json.loads(line[line.index("{") :])["marks"]
    out, last = {}, spawned
    for name, at in sorted(marks.items(), key=lambda kv: kv[1]):
        out[name] = at - last
        last = at
    return out


def _baseline(runs: int, pycache: bool) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "app.cli", "--version"],
            env=bench_env(pycache),
            capture_output=True,
            check=True,
        )
        out.append(time.monotonic() - t0)
    return out


async def _restarts(url: str, runs: int, desks: int, tmp: Path, pycache: bool) -> dict[str, Any]:
    from app.client.hub_client import HubClient, LinkState

    port = free_port()
    log = tmp / "hub.log"
    cmd = hub_command(url, port, tmp / "store")

    def start() -> subprocess.Popen[str]:
        with log.open("a") as err:
            return subprocess.Popen(
                cmd, env=bench_env(pycache), stdout=subprocess.DEVNULL, stderr=err, text=True
            )

    proc = start()
    await asyncio.to_thread(_listening, port, proc, 120)
    clients = [HubClient(f"ws://127.0.0.1:{port}", desk=f"poste{i}") for i in range(desks)]
    for i, c in enumerate(clients):
        await c.connect()
        await c.login(f"desk{i:02d}", PASSWORD, timeout=120)
    listen, cpu, back, phases = [], [], [], []
    ready: dict[int, float] = {}  # desk -> when it was ready again, this restart

    def seen(i: int, state: LinkState) -> None:
        if state is LinkState.READY and i not in ready:
            ready[i] = time.monotonic()

    def hook(i: int) -> Callable[[LinkState, str], None]:
        return lambda state, _detail: seen(i, state)

    for i, c in enumerate(clients):
        c.on_state.append(hook(i))
    try:
        for _ in range(runs):
            proc.kill()
            proc.wait(10)
            killed = time.monotonic()
            ready.clear()
            spawned = time.monotonic()
            proc = start()
            at = await asyncio.to_thread(_listening, port, proc, 120)
            listen.append(at - spawned)
            cpu.append(_cpu_seconds(proc.pid))
            deadline = time.monotonic() + 120
            while len(ready) < desks and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            back += [ready.get(i, math.inf) - killed for i in range(desks)]
            phases.append(_phases(log, spawned))
    finally:
        for c in clients:
            await c.close()
        proc.kill()
        proc.wait(10)
    return {"listen": listen, "cpu": cpu, "back": back, "phases": phases}


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values), 3),
    }


def run_hubstart_bench(
    runs: int = 5,
    desks: int = 10,
    db_url: str | None = None,
    pg_temp: bool = False,
    pycache: bool = True,
) -> dict[str, Any]:
    if pg_temp:
        from app.bench.pgtemp import postgres_cluster

        with postgres_cluster() as url:
            return run_hubstart_bench(runs, desks, url, pycache=pycache)
    with tempfile.TemporaryDirectory(prefix="sasdesk-hubstart-") as tmp_name:
        tmp = Path(tmp_name)
        url = db_url or f"sqlite:///{tmp / 'hub.sqlite3'}"
        prepare_db(url, [Role.ARM_N1] * desks)
        base = _baseline(runs, pycache)
        got = asyncio.run(_restarts(url, runs, desks, tmp, pycache))
    keys = sorted({k for p in got["phases"] for k in p})
    ratio = percentile(got["listen"], 50) / percentile(base, 50)
    return {
        "runs": runs,
        "desks": desks,
        "bytecode_cache": pycache or "PYTHONDONTWRITEBYTECODE" not in os.environ,
        "db": url.split(":", 1)[0],
        "hub_listening_s": _stats(got["listen"]),
        "hub_cpu_until_listening_s": _stats(got["cpu"]),
        "hub_phases_p50_s": {
            k: round(percentile([p[k] for p in got["phases"] if k in p], 50), 3) for k in keys
        },
        "desk_back_after_kill_s": {**_stats(got["back"]), "samples": len(got["back"])},
        "baseline_cli_version_s": round(percentile(base, 50), 3),
        "listening_to_baseline": round(ratio, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
