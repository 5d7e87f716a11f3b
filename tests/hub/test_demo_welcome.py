"""Demo accounts are advertised only by a hub started with --demo, and only while
their password is still the demo one (issue 9, defect 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from websockets.asyncio.client import connect

from app.db.models import User
from app.demo.seed import DEMO_PASSWORD, DEMO_USERS, Demo
from app.hub.auth import hash_password
from app.room import Hub


async def welcome_of(hub: Hub) -> dict[str, Any]:
    async with connect(hub.url) as ws:
        return json.loads(await ws.recv())


async def test_demo_accounts_only_with_demo_and_while_the_password_is_the_demo_one(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    seeded = Hub(url, "127.0.0.1", 0, demo=Demo())
    await seeded.start()
    try:
        welcome = await welcome_of(seeded)
        assert welcome["demo"] is True
        listed = {a["username"] for a in welcome["demo_accounts"]}
        assert listed == {u for u, _, _ in DEMO_USERS}
        assert {a["password"] for a in welcome["demo_accounts"]} == {DEMO_PASSWORD}
        # The room changes two passwords and disables an account, the hub still running.
        with seeded.service.sessions.begin() as s:
            s.execute(
                update(User)
                .where(User.username.in_(("arm1", "superviseur")))
                .values(password_hash=hash_password("Une-vraie-phrase-2026"))
            )
            s.execute(update(User).where(User.username == "cpts").values(active=False))
        listed = {a["username"] for a in (await welcome_of(seeded))["demo_accounts"]}
        assert listed == {u for u, _, _ in DEMO_USERS} - {"arm1", "superviseur", "cpts"}
    finally:
        await seeded.stop()
    # The same database, a hub started without --demo: no account is advertised.
    plain = Hub(url, "127.0.0.1", 0)
    await plain.start()
    try:
        welcome = await welcome_of(plain)
        assert welcome["demo"] is False and welcome["demo_accounts"] == []
        with plain.service.sessions() as s:  # the accounts are still there, just not listed
            assert s.scalar(select(User.id).where(User.username == "arm2")) is not None
    finally:
        await plain.stop()
