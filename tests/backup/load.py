"""Drive the flow benchmark's desks against a hub subprocess while a backup is taken,
and remember which dossiers the hub acknowledged, and when."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.bench.flow import Room, desk_roles, free_port, prepare_db
from app.bench.hubproc import wait_port
from app.domain.enums import Role

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Acks:
    #: dossier id → perf_counter time its call.answered reply arrived (dossier created)
    created: dict[int, float] = field(default_factory=dict)
    #: dossier id → time its dossier.close was answered
    closed: dict[int, float] = field(default_factory=dict)


class RecordingRoom(Room):
    """The benchmark's room, noting each acknowledged creation and close."""

    def __init__(self, url: str, roles: list[Any], acks: Acks):
        super().__init__(url, roles)
        self.acks = acks

    async def send(self, desk: int, type_: str, **kw: Any) -> dict[str, Any]:
        reply = await super().send(desk, type_, **kw)
        now = time.perf_counter()
        if type_ == "call.answered":
            self.acks.created[int(reply["dossier"]["id"])] = now
        elif type_ == "dossier.close":
            self.acks.closed[int(kw["dossier_id"])] = now
        return reply


@contextmanager
def hub_process(url: str, desks: int) -> Iterator[tuple[str, list[Any]]]:
    roles = desk_roles(desks)
    prepare_db(url, roles)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "hub", "--db", url, "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "SASDESK_CONFIG": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_port(port, proc)
        yield f"ws://127.0.0.1:{port}", roles
    finally:
        proc.terminate()
        proc.wait(30)


async def under_load(
    url: str,
    roles: list[Any],
    during: Callable[[], Awaitable[Any]],
    *,
    warmup: float,
    max_dossiers: int,
    acks: Acks,
) -> Any:
    """Carry dossiers (bounded) while ``during()`` runs after ``warmup`` seconds."""
    room = RecordingRoom(url, roles, acks)
    await room.open()
    rng = random.Random(5)
    counter = iter(range(max_dossiers))
    stop = asyncio.Event()

    async def worker() -> None:
        for n in counter:
            if stop.is_set():
                return
            await room.dossier(n, rng)

    workers = [asyncio.create_task(worker()) for _ in range(len(room.of(Role.ARM_N1)))]
    await asyncio.sleep(warmup)  # load runs a while before the measured step
    try:
        result = await during()
        await asyncio.sleep(0.5)  # the hub keeps writing after the snapshot
    finally:
        stop.set()
        await asyncio.gather(*workers)
        await room.close()
    return result
