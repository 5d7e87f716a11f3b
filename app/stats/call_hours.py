"""The calls of each UTC hour packed in one row (``stat_call_hours``): per call its
wait (or what makes it unanswered), line and place (its dossier's commune and
opening), so that the report reads
the month's 100,000 calls as about 720 rows instead of scanning ``stat_calls`` and
placing each call (``app.stats.aggregates.call_groups``).

Kept by the projector in the unit's transaction: a call fact that appears or changes,
or a call whose place changes (``app.stats.call_places``), rewrites its item in its
hour's row; the rebuild packs them again from the facts. The waits of the answering
figures must stay exact (percentiles): a wait is kept in whole milliseconds, as the
hub rounds it, and a call whose wait is not (or whose place several dossiers name)
is marked, so that the report counts such a month from the fact tables instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from app.stats.call_places import CallPlace
from app.stats.call_places import stored as stored_places
from app.stats.facts import CallFact
from app.stats.models import StatCall, StatCallHour

TABLE: Any = StatCallHour.__table__
COLUMNS = (
    "hour",
    "calls",
    "waits",
    "seconds",
    "lines",
    "line_codes",
    "communes",
    "commune_codes",
    "opened",
)

#: ``waits``: not answered, not abandoned (still ringing, or ended so).
NO_WAIT = -1
#: ``waits``: a wait that is not a whole, non-negative number of milliseconds.
APART = -2
#: ``waits``: abandoned; its wait in ``seconds`` (-1.0: its end is unknown).
ABANDONED = -3
#: ``waits``: answered without a recorded wait; answered − offered in ``seconds``.
UNTIMED = -4
#: ``communes``: no dossier names the call.
NO_PLACE = "\x1e"
#: ``opened``: several dossiers name the call.
SEVERAL = -2
#: Separates the lines and the communes (neither ever holds it).
SEP = "\x1f"


def hour_of(at: datetime) -> int:
    """``at`` (aware): whole UTC hours since 1970, as the report counts them."""
    return int(at.timestamp()) // 3600


def wait_code(c: CallFact) -> tuple[int, float | None]:
    """The call's ``waits`` item, and its ``seconds`` item if it has one (the values
    ``call_stats`` computes from the fact)."""
    if c.answered_at is not None:
        if c.wait_seconds is None:
            return UNTIMED, (c.answered_at - c.offered_at).total_seconds()
        ms = round(c.wait_seconds * 1000)
        return (ms if ms >= 0 and ms / 1000 == c.wait_seconds else APART), None
    if c.abandoned:
        if c.ended_at is None:
            return ABANDONED, -1.0
        return ABANDONED, max(0.0, (c.ended_at - c.offered_at).total_seconds())
    return NO_WAIT, None


def place_code(p: CallPlace | None) -> tuple[str, int]:
    if p is None:
        return NO_PLACE, -1
    return p.commune, SEVERAL if p.dossiers > 1 else hour_of(p.opened_at)


@dataclass(slots=True)
class Item:
    wait: int
    line: str
    commune: str = NO_PLACE
    opened: int = -1
    seconds: float | None = None


def _local(values: list[str]) -> tuple[str, str]:
    """Distinct values (joined) and each value's index among them (comma-separated)."""
    distinct = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(distinct)}
    return SEP.join(distinct), ",".join(str(index[v]) for v in values)


def unpack(row: Any) -> dict[int, Item]:
    """An hour's row → its items by call id, in the row's order."""
    lines, communes = row.lines.split(SEP), row.communes.split(SEP)
    seconds = iter(map(float, row.seconds.split(","))) if row.seconds else iter(())
    items: dict[int, Item] = {}
    for call_id, wait, line, commune, opened in zip(
        map(int, row.calls.split(",")),
        map(int, row.waits.split(",")),
        map(int, row.line_codes.split(",")),
        map(int, row.commune_codes.split(",")),
        map(int, row.opened.split(",")),
        strict=True,
    ):
        value = next(seconds) if wait in (ABANDONED, UNTIMED) else None
        items[call_id] = Item(wait, lines[line], communes[commune], opened, value)
    return items


def pack(hour: int, items: Mapping[int, Item]) -> dict[str, Any]:
    values = items.values()
    lines, line_codes = _local([i.line for i in values])
    communes, commune_codes = _local([i.commune for i in values])
    return {
        "hour": hour,
        "calls": ",".join(map(str, items)),
        "waits": ",".join(str(i.wait) for i in values),
        # repr: the shortest text that reads back as the same float
        "seconds": ",".join(repr(i.seconds) for i in values if i.seconds is not None),
        "lines": lines,
        "line_codes": line_codes,
        "communes": communes,
        "commune_codes": commune_codes,
        "opened": ",".join(str(i.opened) for i in values),
    }


_UPDATE = (
    update(TABLE)
    .where(TABLE.c.hour == bindparam("_hour"))
    .values({n: bindparam(f"_{n}") for n in COLUMNS[1:]})
)


def apply(
    session: Session | Connection, calls: Iterable[CallFact], places: Mapping[int, CallPlace]
) -> None:
    """``calls``: call facts that appeared or changed in this unit; ``places``: the
    calls whose place appeared or changed."""
    calls = list(calls)
    if not calls and not places:
        return
    hour_of_call = {c.call_id: hour_of(c.offered_at) for c in calls}
    others = sorted(set(places) - hour_of_call.keys())
    if others:  # a dossier opened or changed: its call is in the log already, as a rule
        t = StatCall.__table__
        for call_id, offered in session.execute(
            select(t.c.call_id, t.c.offered_at).where(t.c.call_id.in_(others))
        ):
            hour_of_call[call_id] = hour_of(offered)
    hours = sorted(set(hour_of_call.values()))
    rows = {
        r.hour: unpack(r) for r in session.execute(select(TABLE).where(TABLE.c.hour.in_(hours)))
    }
    before = {h: pack(h, items) for h, items in rows.items()}
    fresh = [c.call_id for c in calls if c.call_id not in rows.get(hour_of_call[c.call_id], {})]
    known = stored_places(session, (i for i in fresh if i not in places))
    for c in calls:
        items = rows.setdefault(hour_of_call[c.call_id], {})
        item = items.get(c.call_id)
        if item is None:
            commune, opened = place_code(places.get(c.call_id) or known.get(c.call_id))
            wait, seconds = wait_code(c)
            items[c.call_id] = Item(wait, c.line, commune, opened, seconds)
        else:
            (item.wait, item.seconds), item.line = wait_code(c), c.line
    for call_id, p in places.items():
        hour = hour_of_call.get(call_id)
        item = rows.get(hour, {}).get(call_id) if hour is not None else None
        if item is not None:  # else a dossier names a call the log does not hold (yet)
            item.commune, item.opened = place_code(p)
    inserts, updates = [], []
    for hour, items in rows.items():
        row = pack(hour, items)
        if hour not in before:
            inserts.append(row)
        elif row != before[hour]:
            updates.append({f"_{k}": v for k, v in row.items()})
    if inserts:
        session.execute(insert(TABLE), inserts)
    if updates:
        session.execute(_UPDATE, updates)


def count(calls: Iterable[CallFact], places: Mapping[int, CallPlace]) -> dict[int, dict[int, Item]]:
    """Every hour's items, from all the call facts and the calls' places."""
    rows: dict[int, dict[int, Item]] = {}
    for c in sorted(calls, key=lambda c: c.call_id):
        commune, opened = place_code(places.get(c.call_id))
        wait, seconds = wait_code(c)
        rows.setdefault(hour_of(c.offered_at), {})[c.call_id] = Item(
            wait, c.line, commune, opened, seconds
        )
    return rows


def rebuild(conn: Connection, calls: Iterable[CallFact], places: Mapping[int, CallPlace]) -> int:
    conn.execute(delete(TABLE))
    rows = [pack(h, items) for h, items in sorted(count(calls, places).items())]
    for i in range(0, len(rows), 2_000):
        conn.execute(insert(TABLE), rows[i : i + 2_000])
    return len(rows)
