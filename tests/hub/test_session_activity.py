"""The sessions' sweep writes every open desk's last activity, and ends idle ones, in the
database (one read for all the desks: it runs on the single writer)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import SessionSettings
from app.db.models import LoginSession
from tests.hub.desks import Clock, logged_client, started
from tests.waits import until


async def test_the_sweep_records_each_desks_activity_then_ends_the_idle_sessions(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    clock = Clock()
    hub = await started(db_url, SessionSettings(idle_minutes=30, check_seconds=0.05), clock)

    def rows() -> dict[str, LoginSession]:
        with sessions() as s:
            return {row.user.username: row for row in s.scalars(select(LoginSession)).unique()}

    try:
        desks = [await logged_client(hub, name) for name in ("n1", "mrl", "osnp")]
        await until(
            lambda: all(r.last_active_at is not None for r in rows().values()) and len(rows()) == 3,
            "every open desk's activity written",
            timeout=10,
        )
        assert all(r.ended_reason == "" for r in rows().values())
        clock.advance(minutes=31)
        await until(
            lambda: {r.ended_reason for r in rows().values()} == {"idle"},
            lambda: f"every session ended as idle, saw {rows()}",
            timeout=10,
        )
        for desk in desks:
            await desk.close()
    finally:
        await hub.stop()
