"""The dossiers of each Paris day counted per commune, track, priority and wanted
profession (``stat_dossier_days``): what the report sums instead of grouping a
month's ``stat_dossiers`` (100,000 rows in the benchmark) each time.

Kept by the projector in the unit's transaction: a dossier fact that appears adds one
to its key, one that changes moves its one from the old key to the new (an upsert
adding the difference); the rebuild recounts them from the facts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert

from app.db.fast import Fast
from app.stats.calendar import local_day
from app.stats.facts import DossierFact
from app.stats.models import StatDossierDay

TABLE: Any = StatDossierDay.__table__
KEYS = ("day", "commune", "track", "priority", "profession", "specialty")
COUNTS = ("dossiers", "moved", "oriented")

Key = tuple[date, str, str, str, str, str]


def key_of(d: DossierFact) -> tuple[Key, tuple[int, int, int]]:
    """The dossier's key and what it adds there."""
    key = (
        local_day(d.opened_at),
        d.commune or "",
        d.track or "",
        d.priority or "",
        d.profession or "",
        d.specialty or "",
    )
    oriented = d.decision == "ORIENT" and d.orientation == "CONSULTATION_48H"
    return key, (1, 1 if d.moves else 0, 1 if oriented else 0)


def count(dossiers: Iterable[DossierFact]) -> dict[Key, list[int]]:
    out: dict[Key, list[int]] = {}
    for d in dossiers:
        key, adds = key_of(d)
        cell = out.setdefault(key, [0, 0, 0])
        for i, n in enumerate(adds):
            cell[i] += n
    return out


def _rows(cells: dict[Key, list[int]]) -> list[dict[str, Any]]:
    """The rows to add, in key order: many dossiers share a day's key, so two hubs'
    transactions lock the same rows, and locking them in one order cannot deadlock."""
    return [
        {**dict(zip(KEYS, key, strict=True)), **dict(zip(COUNTS, ns, strict=True))}
        for key, ns in sorted(cells.items())
        if any(ns)
    ]


def apply(conn: Connection, before: Iterable[DossierFact], after: Iterable[DossierFact]) -> None:
    """Move the changed dossiers' counts: ``before`` as they were, ``after`` as they are."""
    cells = count(after)
    for key, ns in count(before).items():
        cell = cells.setdefault(key, [0, 0, 0])
        for i, n in enumerate(ns):
            cell[i] -= n
    _fast_upsert(conn.dialect.name).many(conn, _rows(cells))


@functools.cache
def _fast_upsert(dialect: str) -> Fast:
    """:func:`_upsert` run on the driver's cursor (app.db.fast)."""
    return Fast(_upsert(dialect), KEYS + COUNTS)


@functools.cache
def _upsert(dialect: str) -> Any:
    """The upsert adding the differences, built once per dialect: each unit of work only
    binds its rows (building it cost its expressions and its cache key every time)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(TABLE)
    return stmt.on_conflict_do_update(
        index_elements=list(KEYS),
        set_={c: TABLE.c[c] + stmt.excluded[c] for c in COUNTS},
    )


def rebuild(conn: Connection, dossiers: Iterable[DossierFact]) -> int:
    conn.execute(delete(TABLE))
    rows = _rows(count(dossiers))
    if rows:
        conn.execute(insert(TABLE), rows)
    return len(rows)
