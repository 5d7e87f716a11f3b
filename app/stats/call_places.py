"""Each call's territory (``stat_call_places``): the dossier that names the call, its
opening and its commune, so that the report places the month's calls (the answering
figures per territory) by one key lookup per call instead of scanning the month's
``stat_dossiers`` (100,000 rows in the benchmark) and matching them to the calls.

Kept by the projector in the unit's transaction from the dossier facts that appear
or change; the rebuild recounts it from the facts. A call is named by one dossier as
a rule; when several name it, the row keeps the one of highest id and counts them
(``dossiers``), and the report places such a month's calls from ``stat_dossiers``
as before (``app.stats.aggregates``), so that the figures never depend on which one
the row kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from app.db.fast import Fast
from app.stats.facts import DossierFact
from app.stats.models import StatCallPlace

TABLE: Any = StatCallPlace.__table__
COLUMNS = ("call_id", "dossier_id", "opened_at", "commune", "dossiers")


@dataclass(slots=True)
class CallPlace:
    call_id: int
    dossier_id: int
    opened_at: datetime
    commune: str
    dossiers: int = 1

    def values(self) -> tuple[Any, ...]:
        return (self.call_id, self.dossier_id, self.opened_at, self.commune, self.dossiers)


def _named(place: CallPlace | None, d: DossierFact) -> CallPlace:
    """``place`` once the new dossier ``d`` names its call too."""
    assert d.call_id is not None
    if place is None:
        return CallPlace(d.call_id, d.dossier_id, d.opened_at, d.commune)
    n = place.dossiers + 1
    if d.dossier_id > place.dossier_id:
        return CallPlace(d.call_id, d.dossier_id, d.opened_at, d.commune, n)
    return CallPlace(place.call_id, place.dossier_id, place.opened_at, place.commune, n)


def count(dossiers: Iterable[DossierFact]) -> dict[int, CallPlace]:
    """Every call's place, from all the dossier facts."""
    out: dict[int, CallPlace] = {}
    for d in sorted(dossiers, key=lambda d: d.dossier_id):
        if d.call_id is not None:
            out[d.call_id] = _named(out.get(d.call_id), d)
    return out


_SELECT = select(*(TABLE.c[n] for n in COLUMNS)).where(
    TABLE.c.call_id.in_(bindparam("ids", expanding=True))
)
_UPDATE = Fast(
    update(TABLE)
    .where(TABLE.c.call_id == bindparam("_call_id"))
    .values({n: bindparam(f"_{n}") for n in COLUMNS[1:]})
)
_INSERT = Fast(insert(TABLE), COLUMNS)
#: One call's place (the usual unit of work), on the driver's cursor (app.db.fast).
_SELECT_ONE = Fast(select(*(TABLE.c[n] for n in COLUMNS)).where(TABLE.c.call_id == bindparam("id")))


def _stored(session: Session | Connection, ids: list[int]) -> dict[int, CallPlace]:
    if len(ids) == 1:
        return {row[0]: CallPlace(*row) for row in _SELECT_ONE.rows(session, {"id": ids[0]})}
    return {row[0]: CallPlace(*row) for row in session.execute(_SELECT, {"ids": ids})}


def apply(
    session: Session | Connection, new: Iterable[DossierFact], changed: Iterable[DossierFact]
) -> dict[int, CallPlace]:
    """``new``: dossier facts that appeared in this unit; ``changed``: those that
    changed (a dossier's call never changes: its commune may). Returns the places that
    appeared or changed, by call."""
    new = [d for d in new if d.call_id is not None]
    changed = [d for d in changed if d.call_id is not None]
    if not new and not changed:
        return {}
    ids = sorted({d.call_id for d in [*new, *changed] if d.call_id is not None})
    before = _stored(session, ids)
    places = dict(before)
    for d in sorted(new, key=lambda d: d.dossier_id):
        assert d.call_id is not None
        places[d.call_id] = _named(places.get(d.call_id), d)
    for d in changed:
        assert d.call_id is not None
        place = places.get(d.call_id)
        if place is not None and place.dossier_id == d.dossier_id:
            places[place.call_id] = replace(place, commune=d.commune)
    inserts = [
        dict(zip(COLUMNS, p.values(), strict=True)) for k, p in places.items() if k not in before
    ]
    updates = [
        {f"_{n}": v for n, v in zip(COLUMNS, p.values(), strict=True)}
        for k, p in places.items()
        if k in before and p.values() != before[k].values()
    ]
    _INSERT.many(session, inserts)
    _UPDATE.many(session, updates)
    return {k: p for k, p in places.items() if k not in before or p.values() != before[k].values()}


def stored(session: Session | Connection, ids: Iterable[int]) -> dict[int, CallPlace]:
    """The places of these calls, as the table holds them."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return _stored(session, wanted)


def rebuild(conn: Connection, places: Mapping[int, CallPlace]) -> int:
    """``places``: ``count`` of all the dossier facts."""
    conn.execute(delete(TABLE))
    rows = [dict(zip(COLUMNS, p.values(), strict=True)) for p in places.values()]
    for i in range(0, len(rows), 10_000):
        conn.execute(insert(TABLE), rows[i : i + 10_000])
    return len(rows)
