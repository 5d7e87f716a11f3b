"""Desks talking to a real hub in the hub's tests: a bare websocket and its exchanges, a
logged-in client, a hub started with its sessions' settings, and a clock the test moves."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from websockets.asyncio.client import connect

from app.client.hub_client import HubClient
from app.config.settings import HubSettings, SessionSettings
from app.db.types import utcnow
from app.room import Hub
from tests.conftest import PASSWORD


async def raw_desk(hub: Hub, max_size: int | None = 2**20) -> Any:
    ws = await connect(hub.url, max_size=max_size)
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome" and welcome["protocol"] == 1
    return ws


async def exchange(ws: Any, payload: str | dict[str, Any]) -> dict[str, Any]:
    await ws.send(payload if isinstance(payload, str) else json.dumps(payload))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def logged_client(hub: Hub, username: str, **kw: Any) -> HubClient:
    client = HubClient(hub.url, desk=f"poste-{username}", **kw)
    await client.connect()
    await client.login(username, PASSWORD)
    return client


async def started(db_url: str, sessions: SessionSettings, clock: Any = utcnow) -> Hub:
    hub = Hub(db_url, "127.0.0.1", 0, clock=clock, settings=HubSettings(sessions=sessions))
    await hub.start()
    return hub


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


async def login(ws: Any, username: str, password: str) -> dict[str, Any]:
    reply = await exchange(ws, {"type": "login", "id": 1, "username": username,
                                "password": password})  # fmt: skip
    if reply["type"] == "ok":
        await ws.recv()  # snapshot
    return reply
