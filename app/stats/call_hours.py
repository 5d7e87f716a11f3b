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

from collections import namedtuple
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from app.db.fast import Fast
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


_UPDATE = Fast(
    update(TABLE)
    .where(TABLE.c.hour == bindparam("_hour"))
    .values({n: bindparam(f"_{n}") for n in COLUMNS[1:]})
)
# Built once: each unit of work only binds values (see app.stats.projection._Statements).
_INSERT = Fast(insert(TABLE), COLUMNS)
_ROWS = select(*(TABLE.c[n] for n in COLUMNS)).where(
    TABLE.c.hour.in_(bindparam("hours", expanding=True))
)
#: One hour's row, one call's offer (the usual unit of work) on the driver's cursor.
_ROW = Fast(select(*(TABLE.c[n] for n in COLUMNS)).where(TABLE.c.hour == bindparam("hour")))
_Stored = namedtuple("_Stored", COLUMNS)  # type: ignore[misc]
_CALLS: Any = StatCall.__table__
_OFFERED = select(_CALLS.c.call_id, _CALLS.c.offered_at).where(
    _CALLS.c.call_id.in_(bindparam("ids", expanding=True))
)
_OFFERED_ONE = Fast(
    select(_CALLS.c.call_id, _CALLS.c.offered_at).where(_CALLS.c.call_id == bindparam("id"))
)
_TIMED = (str(ABANDONED), str(UNTIMED))


class _Lists:
    """An hour's row split into its lists, edited in place: a unit of work touches one
    or two calls of a row of a hundred or more, so only those items are read and
    written (the row is joined again once)."""

    __slots__ = (
        "calls",
        "waits",
        "seconds",
        "lines",
        "line_codes",
        "communes",
        "commune_codes",
        "opened",
    )
    calls: list[str]
    waits: list[str]
    seconds: list[str]
    lines: list[str]
    line_codes: list[str]
    communes: list[str]
    commune_codes: list[str]
    opened: list[str]

    def __init__(self, row: Any | None) -> None:
        if row is None:
            self.calls, self.waits, self.seconds = [], [], []
            self.lines, self.line_codes, self.communes, self.commune_codes = [], [], [], []
            self.opened = []
            return
        self.calls = row.calls.split(",")
        self.waits = row.waits.split(",")
        self.seconds = row.seconds.split(",") if row.seconds else []
        self.lines, self.line_codes = row.lines.split(SEP), row.line_codes.split(",")
        self.communes, self.commune_codes = row.communes.split(SEP), row.commune_codes.split(",")
        self.opened = row.opened.split(",")

    def _timed_before(self, i: int) -> int:
        return sum(1 for w in self.waits[:i] if w in _TIMED)

    def find(self, call_id: int) -> tuple[int, Item] | None:
        try:
            i = self.calls.index(str(call_id))
        except ValueError:
            return None
        wait = int(self.waits[i])
        seconds = float(self.seconds[self._timed_before(i)]) if self.waits[i] in _TIMED else None
        line = self.lines[int(self.line_codes[i])]
        commune = self.communes[int(self.commune_codes[i])]
        return i, Item(wait, line, commune, int(self.opened[i]), seconds)

    @staticmethod
    def _code(distinct: list[str], value: str) -> str:
        try:
            return str(distinct.index(value))
        except ValueError:  # a value the row has not held yet (one no longer used may stay)
            distinct.append(value)
            return str(len(distinct) - 1)

    def put(self, i: int | None, call_id: int, item: Item) -> None:
        """Write ``item`` at ``i``, or after the others (``i`` None)."""
        timed = item.wait in (ABANDONED, UNTIMED)
        line, commune = self._code(self.lines, item.line), self._code(self.communes, item.commune)
        if i is None:
            i = len(self.calls)
            self.calls.append(str(call_id))
            self.waits.append("")
            self.line_codes.append("")
            self.commune_codes.append("")
            self.opened.append("")
        k = self._timed_before(i)
        was_timed = self.waits[i] in _TIMED
        if was_timed and timed:
            self.seconds[k] = repr(item.seconds)
        elif was_timed:
            del self.seconds[k]
        elif timed:
            self.seconds.insert(k, repr(item.seconds))
        self.waits[i], self.line_codes[i], self.commune_codes[i] = str(item.wait), line, commune
        self.opened[i] = str(item.opened)

    def row(self, hour: int) -> dict[str, Any]:
        return {
            "hour": hour,
            "calls": ",".join(self.calls),
            "waits": ",".join(self.waits),
            "seconds": ",".join(self.seconds),
            "lines": SEP.join(self.lines),
            "line_codes": ",".join(self.line_codes),
            "communes": SEP.join(self.communes),
            "commune_codes": ",".join(self.commune_codes),
            "opened": ",".join(self.opened),
        }


def apply(
    session: Session | Connection,
    calls: Iterable[CallFact],
    places: Mapping[int, CallPlace],
    fresh: Collection[int] = (),
) -> None:
    """``calls``: call facts that appeared or changed in this unit; ``places``: the
    calls whose place appeared or changed; ``fresh``: calls created by this unit, which
    no dossier stored before it can name (their place, if any, is in ``places``)."""
    calls = list(calls)
    if not calls and not places:
        return
    hour_of_call = {c.call_id: hour_of(c.offered_at) for c in calls}
    others = sorted(set(places) - hour_of_call.keys())
    if others:  # a dossier opened or changed: its call is in the log already, as a rule
        offers: Iterable[Sequence[Any]] = (
            _OFFERED_ONE.rows(session, {"id": others[0]})
            if len(others) == 1
            else session.execute(_OFFERED, {"ids": others})
        )
        for call_id, offered in offers:
            hour_of_call[call_id] = hour_of(offered)
    hours = sorted(set(hour_of_call.values()))
    found_rows: Iterable[Sequence[Any]] = (
        _ROW.rows(session, {"hour": hours[0]})
        if len(hours) == 1
        else session.execute(_ROWS, {"hours": hours})
    )
    stored = {r[0]: _Stored(*r) for r in found_rows}
    rows = {h: _Lists(stored.get(h)) for h in hours}
    found = {c.call_id: rows[hour_of_call[c.call_id]].find(c.call_id) for c in calls}
    known = stored_places(
        session, (i for i, f in found.items() if f is None and i not in places and i not in fresh)
    )
    dirty: set[int] = set()
    for c in calls:
        hour = hour_of_call[c.call_id]
        wait, seconds = wait_code(c)
        at = rows[hour].find(c.call_id) if found[c.call_id] is not None else None
        if at is None:
            commune, opened = place_code(places.get(c.call_id) or known.get(c.call_id))
            rows[hour].put(None, c.call_id, Item(wait, c.line, commune, opened, seconds))
            dirty.add(hour)
            continue
        i, item = at
        new = Item(wait, c.line, item.commune, item.opened, seconds)
        if new != item:
            rows[hour].put(i, c.call_id, new)
            dirty.add(hour)
    for call_id, p in places.items():
        hour_ = hour_of_call.get(call_id)
        at = rows[hour_].find(call_id) if hour_ is not None else None
        if at is None or hour_ is None:  # a dossier names a call the log does not hold (yet)
            continue
        i, item = at
        commune, opened = place_code(p)
        new = Item(item.wait, item.line, commune, opened, item.seconds)
        if new != item:
            rows[hour_].put(i, call_id, new)
            dirty.add(hour_)
    inserts = [rows[h].row(h) for h in sorted(dirty) if h not in stored]
    updates = [
        {f"_{k}": v for k, v in rows[h].row(h).items()} for h in sorted(dirty) if h in stored
    ]
    _INSERT.many(session, inserts)
    _UPDATE.many(session, updates)


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
