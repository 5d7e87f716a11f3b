"""The report's two large fact tables counted by the database, not loaded as facts.

A month holds about one call and one dossier fact per dossier (100,000 each in the
benchmark): building a Python object per row cost most of the report. Here

- dossiers are read from their day counts (``app.stats.dossier_days``, kept by the
  projector) summed by ``GROUP BY`` (commune, track, priority, profession, specialty):
  a few hundred rows, which the report sums per territory;
- calls answered (the bulk) come back as one row of concatenated columns (no sort in
  the database, no row object in Python; waits in whole milliseconds) that numpy
  groups by Paris day, hour, week, line and territory; the few other calls
  (abandoned, still ringing, answered without a recorded wait) are read as facts and
  counted as ``call_stats`` counts them.

The figures are those of ``app.stats.metrics`` over the facts (``stats_of_waits``,
``stats_of_pairs`` are the same code); ``tests/stats/test_aggregates.py`` checks it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Integer, String, and_, case, cast, func, literal, select
from sqlalchemy.sql.functions import aggregate_strings

from app.stats.calendar import Period, paris_hour, week_of
from app.stats.call_hours import (
    ABANDONED,
    APART,
    NO_PLACE,
    SEP,
    SEVERAL,
    UNTIMED,
    hour_of,
)
from app.stats.facts import MARGIN, CallFact, _maker, _periods
from app.stats.metrics import CallStats, DossierStats, stats_of_pairs, stats_of_waits
from app.stats.models import StatCall, StatCallHour, StatDossier, StatDossierDay

#: Ids bound per query when facts are read by id (SQLite binds up to 32,766 values).
CHUNK = 5000


@dataclass
class DossierCounts:
    """The period's dossiers counted per commune, track, priority and wanted profession."""

    #: (commune, track, priority) → [dossiers, moved, SNP oriented to a consultation]
    cells: dict[tuple[str, str | None, str | None], list[int]] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)  # wanted key → decisions

    def stats(self, keep: Callable[[str], bool] = lambda commune: True) -> DossierStats:
        pairs: Counter[tuple[str | None, str | None]] = Counter()
        moved = oriented = 0
        for (commune, track, priority), (n, m, o) in self.cells.items():
            if keep(commune):
                pairs[(track, priority)] += n
                moved, oriented = moved + m, oriented + o
        return stats_of_pairs(pairs, moved, oriented)

    def communes(self) -> set[str]:
        return {commune for commune, _, _ in self.cells}


def dossier_counts(conn: Connection, period: Period) -> DossierCounts:
    """From the day counts the projector keeps (``app.stats.dossier_days``): a few
    thousand rows a month, summed here, instead of the month's dossier facts."""
    d = StatDossierDay.__table__.c
    keys = (d.commune, d.track, d.priority, d.profession, d.specialty)
    q = (
        select(*keys, func.sum(d.dossiers), func.sum(d.moved), func.sum(d.oriented))
        .where(d.day >= period.first, d.day <= period.last)
        .group_by(*keys)
    )
    out = DossierCounts()
    for commune, track_, priority_, profession_, specialty, n, moved, oriented in conn.execute(q):
        if not n and not moved and not oriented:
            continue
        # "" stands for none in the day counts' keys (``DossierFact``'s None).
        track, priority, profession = track_ or None, priority_ or None, profession_ or None
        cell = out.cells.setdefault((commune, track, priority), [0, 0, 0])
        cell[0] += n
        cell[1] += moved
        if track == "SNP":
            cell[2] += oriented
        if oriented and profession is not None:  # DossierFact.wanted_key
            out.decisions[f"{profession}/{specialty}" if specialty else profession] += oriented
    return out


@dataclass
class CallGroups:
    """A period's calls grouped as the report shows them."""

    month: CallStats
    by_line: dict[str, CallStats]
    by_hour: dict[int, CallStats]  # Paris hour, in the order the month first reaches it
    by_day: dict[date, CallStats]
    by_week: dict[date, CallStats]
    by_sector: dict[str, CallStats]  # as ``sector_of`` names them, in no order


def _column(text: str | None, sep: str) -> list[str]:
    return text.split(sep) if text else []


def _integers(text: str | None, n: int) -> np.ndarray:
    """``n`` comma-separated integers, parsed by numpy in one call."""
    out = np.fromstring(text or "", dtype=np.int64, sep=",")
    if len(out) != n:
        raise ValueError(f"{n} identifiants attendus, {len(out)} lus")
    return out


def _epoch_hour(col: Any, dialect: str) -> Any:
    """The UTC hour of an instant, as whole hours since 1970 (a Paris hour is one)."""
    if dialect == "sqlite":  # naive UTC text; whole seconds, floored (after 1970)
        if sqlite3.sqlite_version_info >= (3, 38):
            seconds: Any = func.unixepoch(col)
        else:  # the same integer, slower to compute
            seconds = cast(func.strftime("%s", col), Integer)
        return seconds.op("/")(literal(3600))
    return cast(func.floor(func.extract("epoch", col) / 3600), Integer)


def call_groups(
    conn: Connection, period: Period, sector_of: Callable[[str | None], str]
) -> CallGroups:
    """``sector_of``: a dossier's commune (None: the call has no dossier) → its row.

    The period's calls from their hours' packed rows (``app.stats.call_hours``), each
    placed by its dossier's commune when that dossier opened in the period's dossier
    range (``Facts.dossier_of_call``). A month with a call that several dossiers name,
    or with a wait that is not a whole number of milliseconds, is counted from the
    fact tables instead (``_scanned_call_groups``)."""
    h = StatCallHour.__table__.c
    first, last = hour_of(period.start), hour_of(period.end)  # Paris days: whole hours
    packed = conn.execute(
        select(
            h.hour,
            h.calls,
            h.waits,
            h.seconds,
            h.lines,
            h.line_codes,
            h.communes,
            h.commune_codes,
            h.opened,
        ).where(h.hour >= first, h.hour < last)
    ).all()
    sizes = [r.calls.count(",") + 1 for r in packed]
    n = sum(sizes)
    codes = _integers(",".join(r.waits for r in packed), n)
    opened = _integers(",".join(r.opened for r in packed), n)
    if (codes == APART).any() or (opened == SEVERAL).any():
        return _scanned_call_groups(conn, period, sector_of)
    all_hours = np.repeat(np.array([r.hour for r in packed], np.int64), sizes)
    line_codes, line_names = _unpacked_codes(
        [r.lines for r in packed], [r.line_codes for r in packed], sizes
    )
    commune_codes, communes = _unpacked_codes(
        [r.communes for r in packed], [r.commune_codes for r in packed], sizes
    )
    if NO_PLACE not in communes:
        communes.append(NO_PLACE)
    in_range = (opened >= hour_of(period.start - MARGIN)) & (opened < last)
    commune_codes = np.where(in_range, commune_codes, communes.index(NO_PLACE))
    seconds = np.full(n, np.nan)
    timed = (codes == ABANDONED) | (codes == UNTIMED)
    text = ",".join(r.seconds for r in packed if r.seconds)
    seconds[timed] = np.fromiter(map(float, text.split(",")) if text else (), np.float64)
    answered = (codes >= 0) | (codes == UNTIMED)
    waits = np.where(codes >= 0, codes / 1000.0, seconds)[answered]
    rest = ~answered
    abandon = seconds[rest].tolist()
    unanswered = Unanswered(
        all_hours[rest].tolist(),
        [line_names[i] for i in line_codes[rest].tolist()],
        [w if c == ABANDONED else None for c, w in zip(codes[rest].tolist(), abandon, strict=True)],
    )

    def place(commune: str) -> str:
        return sector_of(None if commune == NO_PLACE else commune)

    names = list(dict.fromkeys(place(x) for x in communes))
    sector_code = np.array([names.index(place(x)) for x in communes], np.int64)
    places = (
        sector_code[commune_codes[answered]],
        [names[i] for i in sector_code[commune_codes[rest]].tolist()],
        names,
    )
    lines = (line_codes[answered], line_names)
    return _grouped(period, all_hours[answered], lines, places, waits, unanswered)


def _unpacked_codes(
    distinct: list[str], local: list[str], sizes: list[int]
) -> tuple[np.ndarray, list[str]]:
    """Each item's index in the values of all the rows, from each row's distinct values
    (``SEP``-joined) and its items' indexes among them, and those values."""
    names: dict[str, int] = {}
    flat: list[int] = []
    offsets: list[int] = []
    for values in distinct:
        offsets.append(len(flat))
        for v in values.split(SEP):
            flat.append(names.setdefault(v, len(names)))
    n = sum(sizes)
    codes = _integers(",".join(local), n)
    at = np.repeat(np.array(offsets, np.int64), sizes) + codes
    return np.array(flat, np.int64)[at] if n else codes, list(names)


@dataclass
class Unanswered:
    """The calls not answered: each one's UTC hour, line and abandon wait (None: not
    abandoned; -1: abandoned, its end unknown)."""

    hours: list[int]
    lines: list[str]
    abandon: list[float | None]

    @classmethod
    def of(cls, rest: list[CallFact]) -> Unanswered:
        return cls(
            [_utc_hour(x.offered_at) for x in rest],
            [x.line for x in rest],
            [_abandon_wait(x) if x.abandoned else None for x in rest],
        )


def _scanned_call_groups(
    conn: Connection, period: Period, sector_of: Callable[[str | None], str]
) -> CallGroups:
    """``call_groups`` placing each call by the dossiers of the period's range, scanned
    (``Facts.dossier_of_call``: the later of several wins), and reading every wait as
    text when one is finer than the millisecond."""
    c = StatCall.__table__.c
    in_period = _periods(period)["calls"](StatCall.__table__)
    answered = and_(c.answered_at.is_not(None), c.wait_seconds.is_not(None))
    # A wait is the hub's round(…, 3): read as whole milliseconds (integers are cheaper
    # to write and to parse than floats), whose quotient by 1000 is the same double;
    # the query counts the waits for which that does not hold (none from the hub).
    ms = func.round(c.wait_seconds * 1000)
    # Every call of the period in one scan: the others' "wait" is -1 (abandoned,
    # ringing, answered without a recorded wait), read as facts below by their ids.
    wait_or_not = case((answered, cast(ms, Integer)), else_=-1)
    row = conn.execute(
        select(
            func.count(),
            aggregate_strings(cast(c.call_id, String), ","),
            aggregate_strings(cast(_epoch_hour(c.offered_at, conn.dialect.name), String), ","),
            aggregate_strings(c.line, SEP),
            aggregate_strings(cast(wait_or_not, String), ","),
            func.sum(case((ms / 1000.0 != c.wait_seconds, 1), else_=0)),
        ).where(in_period)
    ).one()
    n = row[0]
    all_ids = _integers(row[1], n)
    all_hours = _integers(row[2], n)
    all_lines = _column(row[3], SEP)
    codes = _integers(row[4], n)
    if len(all_lines) != n:
        raise ValueError("concaténation des appels incohérente")
    kept = codes >= 0
    ids, hours = all_ids[kept], all_hours[kept]
    line_codes, line_names = _codes(all_lines)
    if row[5]:  # some wait is finer than the millisecond: read every wait as text
        # (15 significant digits on SQLite, the shortest exact text on PostgreSQL)
        text = conn.scalar(
            select(aggregate_strings(cast(c.wait_seconds, String), ",")).where(in_period, answered)
        )
        waits = np.fromiter(map(float, _column(text, ",")), np.float64, len(ids))
    else:
        waits = codes[kept] / 1000.0
    # The other calls, as facts: few (abandoned, ringing, answered without a wait).
    cols, make = _maker(CallFact, StatCall.__table__, conn.dialect.name == "sqlite")
    others = all_ids[~kept].tolist()
    rest: list[CallFact] = []
    for i in range(0, len(others), CHUNK):
        result = conn.execute(select(*cols).where(c.call_id.in_(others[i : i + CHUNK])))
        assert result.cursor is not None
        rest += make(result.cursor.fetchall())
        result.close()
    kept_lines = line_codes[kept]
    extra = [x for x in rest if x.answered_at is not None]  # answered, no wait recorded
    if extra:
        ids = np.concatenate([ids, np.array([x.call_id for x in extra], np.int64)])
        hours = np.concatenate([hours, np.array([_utc_hour(x.offered_at) for x in extra])])
        index = {k: i for i, k in enumerate(line_names)}
        for x in extra:
            if x.line not in index:
                index[x.line] = len(line_names)
                line_names.append(x.line)
        kept_lines = np.concatenate(
            [kept_lines, np.array([index[x.line] for x in extra], np.int64)]
        )
        more = [(x.answered_at - x.offered_at).total_seconds() for x in extra]  # type: ignore[operator]
        waits = np.concatenate([waits, np.array(more, np.float64)])
    rest = [x for x in rest if x.answered_at is None]
    places = _places_of_calls(conn, period, ids, [x.call_id for x in rest], sector_of)
    return _grouped(period, hours, (kept_lines, line_names), places, waits, Unanswered.of(rest))


def _utc_hour(at: datetime) -> int:
    """``at`` is UTC: whole hours since 1970, as the database counts them."""
    return int(at.timestamp()) // 3600


def _places_of_calls(
    conn: Connection,
    period: Period,
    ids: np.ndarray,
    rest: list[int],
    sector_of: Callable[[str | None], str],
) -> tuple[np.ndarray, list[str], list[str]]:
    """The sector of each call's dossier's commune (``sector_of(None)``: no dossier), as
    codes for the answered calls ``ids``, as names for the ``rest``, and the names of
    the codes. A call's dossier: one opened in the period's dossier range that names
    the call (``Facts.dossier_of_call``; a later one wins)."""
    d = StatDossier.__table__.c
    in_range = _periods(period)["dossiers"](StatDossier.__table__)
    row = conn.execute(
        select(
            func.count(),
            aggregate_strings(cast(d.call_id, String), ","),
            aggregate_strings(d.commune, SEP),
        ).where(in_range, d.call_id.is_not(None))
    ).one()
    calls = _integers(row[1], row[0])
    commune_codes, communes = _codes(_column(row[2], SEP))
    names = list(dict.fromkeys(sector_of(c) for c in [*communes, None]))
    sector_code = np.array([names.index(sector_of(c)) for c in [*communes, None]], np.int64)
    # Per dossier, its sector's code; one more: no dossier.
    sectors = np.append(sector_code[commune_codes], sector_code[-1])
    order = np.argsort(calls, kind="stable")
    ordered = np.append(calls[order], -1)  # never a call id: searches stay in bounds

    def sector_of_calls(wanted: np.ndarray) -> np.ndarray:
        at = np.searchsorted(ordered[:-1], wanted, side="right") - 1  # last of equal ids
        found = (at >= 0) & (ordered[at] == wanted)
        return sectors[np.where(found, np.append(order, len(sectors) - 1)[at], -1)]

    rest_codes = sector_of_calls(np.array(rest, np.int64)).tolist()
    return sector_of_calls(ids), [names[i] for i in rest_codes], names


def _codes(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each value's index in the distinct values, and those values."""
    distinct = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(distinct)}
    return np.fromiter(map(index.__getitem__, values), np.int64, len(values)), distinct


def _grouped(
    period: Period,
    hours: np.ndarray,
    lines: tuple[np.ndarray, list[str]],
    places: tuple[np.ndarray, list[str], list[str]],
    waits: np.ndarray,
    rest: Unanswered,
) -> CallGroups:
    order = np.argsort(waits, kind="stable")  # the answered calls' waits sorted once
    ordered_waits = waits[order]
    rest_hours, rest_abandon = rest.hours, rest.abandon

    def grouping(codes: np.ndarray, keys: list[Any], rest_keys: list[Any]) -> dict[Any, CallStats]:
        """Stats per key; ``codes``: each answered call's index in ``keys``."""
        index = {k: i for i, k in enumerate(keys)}
        # Small codes sort by radix: stable, linear.
        by_code = codes[order].astype(np.int16 if len(keys) < 2**15 else np.int64)
        grouped = ordered_waits[np.argsort(by_code, kind="stable")]
        ends = np.cumsum(np.bincount(by_code, minlength=len(keys))).tolist()
        extra: dict[Any, list[float | None]] = {}
        for abandon_wait, k in zip(rest_abandon, rest_keys, strict=True):
            extra.setdefault(k, []).append(abandon_wait)
        out: dict[Any, CallStats] = {}
        for k in [*keys, *(k for k in extra if k not in index)]:
            i = index.get(k)
            segment = grouped[ends[i - 1] if i else 0 : ends[i]] if i is not None else grouped[:0]
            others = extra.get(k, [])
            abandon = [w for w in others if w is not None]
            ringing = len(others) - len(abandon)
            out[k] = stats_of_waits(len(segment) + len(others), ringing, segment, abandon)
        return out

    distinct, hour_codes = np.unique(hours, return_inverse=True)
    utc_hours: list[int] = distinct.tolist()
    # Each UTC hour → its Paris day and hour; in time order for the hours' order.
    local = {h: paris_hour(h) for h in sorted({*utc_hours, *rest_hours})}

    def by_local(f: Callable[[tuple[date, int]], Hashable]) -> dict[Any, CallStats]:
        per_hour = [f(local[h]) for h in utc_hours]
        keys = list(dict.fromkeys(per_hour))
        index = {k: i for i, k in enumerate(keys)}
        lookup = np.array([index[k] for k in per_hour], np.int64)
        return grouping(lookup[hour_codes], keys, [f(local[h]) for h in rest_hours])

    by_day = by_local(lambda dh: dh[0])
    by_hour = by_local(lambda dh: dh[1])
    by_week = by_local(lambda dh: week_of(dh[0]))
    first_seen = list(dict.fromkeys(hour for _, hour in local.values()))
    empty = stats_of_waits(0, 0, [], [])
    sector_codes, rest_sectors, sectors = places
    month = grouping(
        np.zeros(len(hours), np.int64), [0] if len(hours) else [], [0] * len(rest_hours)
    )
    return CallGroups(
        month=month.get(0, empty),
        by_line=dict(sorted(grouping(*lines, rest.lines).items())),
        by_hour={h: by_hour[h] for h in first_seen if h in by_hour},
        by_day={day: by_day.get(day, empty) for day in period.days()},
        by_week=dict(sorted(by_week.items())),
        by_sector={
            k: v
            for k, v in grouping(sector_codes, sectors, rest_sectors).items()
            if v.offered  # a sector named by a dossier outside the period's calls
        },
    )


def _abandon_wait(x: CallFact) -> float:
    """As ``call_stats``: offer → hang-up, or -1 when the end is unknown."""
    if x.ended_at is None:
        return -1.0
    return max(0.0, (x.ended_at - x.offered_at).total_seconds())
