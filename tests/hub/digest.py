"""A digest of every table: equal digests mean the database did not change."""

from __future__ import annotations

import hashlib

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
