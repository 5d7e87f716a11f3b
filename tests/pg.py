"""PostgreSQL for the tests: a throwaway cluster (the benches use it too), and a fresh
schema on it for each test (tests/conftest.py's ``pg_empty``, ``pg_url`` and
``pg_sessions`` fixtures stand on these)."""

from __future__ import annotations

from sqlalchemy import text

from app.bench.pgtemp import postgres_cluster
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade

__all__ = ["empty_schema", "fresh_schema", "postgres_cluster"]


def empty_schema(url: str) -> None:
    """Drop everything an earlier test left: an empty ``public`` schema."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def fresh_schema(url: str, password_hash: str) -> None:
    """Empty the database, migrate it, and add one account per role (conftest's)."""
    from tests.conftest import add_accounts

    empty_schema(url)
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as s:
        add_accounts(s, password_hash)
    engine.dispose()
