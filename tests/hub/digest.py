"""A digest of every table: equal digests mean the database did not change."""

from __future__ import annotations

import hashlib
import sqlite3

from sqlalchemy import Engine, MetaData, select

_reflected: dict[tuple[int, str], MetaData] = {}


def database_digest(engine: Engine, skip: frozenset[str] = frozenset()) -> str:
    """SHA-256 over every row of every table, in primary-key order."""
    key = (id(engine), str(engine.url))
    meta = _reflected.get(key)
    if meta is None:
        meta = _reflected[key] = MetaData()
        meta.reflect(engine)
    h = hashlib.sha256()
    with engine.connect() as conn:
        for name in sorted(meta.tables):
            if name in skip:
                continue
            table = meta.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            h.update(name.encode())
            for row in conn.execute(select(table).order_by(*order)):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


class Commits:
    """Whether anything was committed to a SQLite database since the last look: its
    ``data_version``, read on a connection of this object's own that never writes, moves
    with every commit of any other connection. An unchanged version is an unchanged
    database, so a test that compares ``database_digest`` after every step reads every
    table again only when something was written (5,000 fuzzed frames: the digest of some
    sixty tables after each one was most of the test's time).
    """

    def __init__(self, engine: Engine) -> None:
        assert engine.url.get_backend_name() == "sqlite" and engine.url.database
        self._conn = sqlite3.connect(engine.url.database, isolation_level=None)
        self._seen = self._version()

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def since_last_look(self) -> bool:
        """True if a commit came since the previous call (or since this object was made).
        Call it before reading the database: a commit during that read moves the version
        again, so the next call says so; none is missed."""
        version = self._version()
        changed, self._seen = version != self._seen, version
        return changed

    def close(self) -> None:
        self._conn.close()
