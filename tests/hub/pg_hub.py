"""Hubs on a fresh PostgreSQL schema with the test accounts (shared by the PG tests)."""

from __future__ import annotations

from sqlalchemy import text

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import User
from tests.conftest import ACCOUNTS


def fresh_schema(url: str, password_hash: str) -> None:
    """Empty the database, migrate it, and add one account per role (conftest's)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    with make_sessionmaker(engine).begin() as s:
        for username, role in ACCOUNTS:
            s.add(
                User(
                    username=username,
                    display_name=f"{username} ({role.label})",
                    role=str(role),
                    password_hash=password_hash,
                )
            )
    engine.dispose()
