"""Login throttling kept in the database: two hubs on one PostgreSQL count the same
wrong passwords and the password checks in flight, a restart keeps a lock,
``sasdesk users enable`` and ``reset-password`` lift it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import SessionSettings
from app.db.types import utcnow
from app.domain.rules import FlowError
from app.hub.throttle import CLAIM_LAPSES, LoginFailure, LoginGuard
from tests.cli.test_users_cli import users
from tests.conftest import PASSWORD
from tests.hub.desks import Clock, logged_client, login, raw_desk, started
from tests.waits import until

SETTINGS = SessionSettings(
    throttle_after=3, lock_after=6, lock_minutes=15,
    address_throttle_after=100, address_lock_after=200,
)  # fmt: skip
NEW_PASSWORD = "Régul@tion-15-SAS"


@pytest.mark.peers
async def test_two_hubs_share_the_count_a_restart_keeps_the_lock_and_enable_lifts_it(
    pg_url: str,
) -> None:
    clock = Clock()
    a = await started(pg_url, SETTINGS, clock)
    b = await started(pg_url, SETTINGS, clock)
    try:
        sup = await logged_client(a, "sup")
        alerts: list[dict[str, Any]] = []
        sup.on_event.append(lambda m: alerts.append(m) if m["event"] == "login.locked" else None)
        on_a, on_b = await raw_desk(a), await raw_desk(b)
        for _ in range(3):
            assert (await login(on_a, "n1", "guess"))["code"] == "bad_credentials"
        reply = await login(on_b, "n1", PASSWORD)  # hub B knows of hub A's three
        assert reply["code"] == "throttled" and "incorrect 3 fois" in reply["message"]
        clock.advance(seconds=1)
        assert (await login(on_b, "n1", "guess"))["code"] == "bad_credentials"  # 4th, on B
        reply = await login(on_a, "n1", "guess")
        assert reply["code"] == "throttled" and "attendez 2 s" in reply["message"]
        clock.advance(seconds=2)
        assert (await login(on_a, "n1", "guess"))["code"] == "bad_credentials"  # 5th
        clock.advance(seconds=4)
        assert (await login(on_b, "n1", "guess"))["code"] == "bad_credentials"  # 6th: lock
        reply = await login(on_a, "n1", PASSWORD)
        assert reply["code"] == "locked" and "bloqué pendant encore 15 min" in reply["message"]
        # Locked on B, told to the supervisor logged in on A (once).
        await until(lambda: bool(alerts))
        assert alerts[0]["data"]["username"] == "n1" and alerts[0]["data"]["failures"] == 6
        assert len(alerts) == 1
        await sup.close()
    finally:
        await a.stop()
        await b.stop()

    # Both hubs restarted: the lock is still there.
    clock.advance(minutes=5)
    a = await started(pg_url, SETTINGS, clock)
    try:
        ws = await raw_desk(a)
        reply = await login(ws, "n1", PASSWORD)
        assert reply["code"] == "locked" and "encore 10 min" in reply["message"]
        done = users("enable", "--db", pg_url, "--username", "n1")
        assert done.returncode == 0, done.stderr
        assert "blocage après mots de passe erronés levé" in done.stdout
        assert (await login(ws, "n1", PASSWORD))["type"] == "ok"

        # reset-password lifts a lock too (the new password works at once).
        other = await raw_desk(a)
        for _ in range(3):
            assert (await login(other, "n1b", "guess"))["code"] == "bad_credentials"
        for wait in (1, 2, 4):
            clock.advance(seconds=wait)
            assert (await login(other, "n1b", "guess"))["code"] == "bad_credentials"
        assert (await login(other, "n1b", PASSWORD))["code"] == "locked"
        done = users(
            "reset-password", "--db", pg_url, "--username", "n1b",
            "--password-env", "NEW_PW", env={"NEW_PW": NEW_PASSWORD},
        )  # fmt: skip
        assert done.returncode == 0 and "levé" in done.stdout, done.stderr
        assert (await login(other, "n1b", NEW_PASSWORD))["type"] == "ok"
        # An account without a lock is enabled without a word about one.
        done = users("enable", "--db", pg_url, "--username", "n2")
        assert done.stdout.strip() == "compte n2 réactivé"
    finally:
        await a.stop()


async def attempt(ws: Any) -> dict[str, Any]:
    wire = {"type": "login", "id": 1, "username": "n1", "password": "guess"}
    await ws.send(json.dumps(wire))
    reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 60))
    return reply


def checks_in_flight(sessions: sessionmaker[Session]) -> dict[tuple[str, str], int]:
    with sessions() as s:
        return {(f.kind, f.key): f.checking for f in s.scalars(select(LoginFailure))}


async def test_attempts_sent_together_do_not_slip_past_the_throttle(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    clock = Clock()
    hub = await started(db_url, SETTINGS, clock)
    try:
        sockets = [await raw_desk(hub) for _ in range(8)]
        replies = await asyncio.gather(*(attempt(ws) for ws in sockets))
        codes = Counter(r["code"] for r in replies)
        # Only as many guesses reach argon2 as the account had left before its delay.
        assert codes == {"bad_credentials": 3, "throttled": 5}, codes
        together = next(r for r in replies if r["code"] == "throttled")
        assert "en même temps pour ce compte" in together["message"]
        # The next one waits the growing delay, as if they had been sent one by one.
        reply = await login(sockets[0], "n1", PASSWORD)
        assert reply["code"] == "throttled" and "attendez 1 s" in reply["message"]
        for ws in sockets:
            await ws.close()
    finally:
        await hub.stop()


@pytest.mark.peers
async def test_attempts_sent_together_to_two_hubs_get_no_more_guesses_than_to_one(
    pg_url: str,
) -> None:
    """The limit on checks in flight holds across hubs: a burst split between two hubs
    sharing one PostgreSQL reaches argon2 as often as it would on one hub (it got twice
    the guesses when each hub kept its own count)."""
    from app.db.engine import make_engine, make_sessionmaker

    engine = make_engine(pg_url)
    clock = Clock()
    a = await started(pg_url, SETTINGS, clock)
    b = await started(pg_url, SETTINGS, clock)
    try:
        sockets = [await raw_desk(hub) for hub in (a, b) for _ in range(6)]
        replies = await asyncio.gather(*(attempt(ws) for ws in sockets))
        codes = Counter(r["code"] for r in replies)
        assert codes == {"bad_credentials": 3, "throttled": 9}, codes
        # Every place was given back: the next guess, on either hub, meets the delay.
        assert set(checks_in_flight(make_sessionmaker(engine)).values()) == {0}
        reply = await login(sockets[-1], "n1", PASSWORD)
        assert reply["code"] == "throttled" and "attendez 1 s" in reply["message"]
        clock.advance(seconds=1)
        assert (await login(sockets[0], "n1", "guess"))["code"] == "bad_credentials"
        for ws in sockets:
            await ws.close()
    finally:
        await a.stop()
        await b.stop()
        engine.dispose()


async def test_places_left_by_a_hub_killed_mid_check_lapse(
    sessions: sessionmaker[Session],
) -> None:
    guard = LoginGuard(SETTINGS)
    now = utcnow()
    with sessions.begin() as s:  # a hub died with three checks under way for n1
        s.add(LoginFailure(kind="account", key="n1", failures=0, last_at=now, checking=3,
                           checking_at=now - timedelta(seconds=10)))  # fmt: skip
    with pytest.raises(FlowError) as refused, sessions.begin() as s:
        guard.claim(s, "n1", "10.0.0.7", now)
    assert refused.value.code == "throttled"
    assert checks_in_flight(sessions) == {("account", "n1"): 3}  # the refusal took nothing
    later = now + CLAIM_LAPSES
    with sessions.begin() as s:
        taken = guard.claim(s, "n1", "10.0.0.7", later)
    assert taken == {("account", "n1"): 1, ("address", "10.0.0.7"): 1}
    with sessions.begin() as s:
        guard.release(s, "n1", "10.0.0.7")
    assert set(checks_in_flight(sessions).values()) == {0}
