"""Engine creation and the default embedded database location."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker

from app.resources import data_dir as data_dir  # where the embedded database lives
from app.resources import default_db_url as default_db_url  # its URL

#: A pooled PostgreSQL connection unused for longer than this is pinged before use.
#: ``pool_pre_ping`` pinged on every checkout: one more round trip on every intent of
#: the single writer (about 9 % of its time at 100 desks); a connection used a moment
#: ago is alive, and one that died since is invalidated by SQLAlchemy on its error.
IDLE_PING_SECONDS = 2.0


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # The URL object, not str(url): SQLAlchemy 2 prints the password as "***". Query
    # parameters (sslmode, sslrootcert, sslcert…) go to libpq unchanged.
    engine = create_engine(parsed)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, but only for connections that sat in the pool."""

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_conn: object, record: object) -> None:
        record.info["checked_in"] = time.monotonic()  # type: ignore[attr-defined]

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: DBAPIConnection, record: object, _proxy: object) -> None:
        last = record.info.get("checked_in")  # type: ignore[attr-defined]
        if last is not None and time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as error:  # the pool drops it and checks out another
            raise exc.DisconnectionError(str(error)) from error


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    # WAL: readers never block the single writer; NORMAL is durable across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
