"""The figures: answering, dossiers by track and priority, OSNP outcomes, slots.

Every function takes facts rebuilt from events (``app.stats.facts``) and returns
plain, JSON-ready values; grouping keys are Paris days, weeks, months, lines, hours.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from app.domain.enums import TaskOutcome
from app.domain.professions import CHOICES, wanted_label
from app.domain.room import TARGET_ANSWERED as TARGET_ANSWERED  # the room's target
from app.stats.calendar import Period, paris_hour, week_of
from app.stats.facts import AppointmentFact, CallFact, DossierFact, Facts, TaskFact

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Waits = Sequence[float] | NDArray[np.float64]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

#: National answering figures (2022) and the target, shown next to ours.
NATIONAL_2022 = {"answered": 0.88, "within_60s": 0.80}


def percentile(values: list[float], q: float, *, ordered: bool = False) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); ``ordered``: the
    values are already sorted (several percentiles of one list sort it once)."""
    if not values:
        return None
    ordered_values = values if ordered else sorted(values)
    return _rank(ordered_values, q)


def _rank(ordered: Waits, q: float) -> float:
    """``ordered`` may be a numpy array: its two values are made Python floats first, so
    the rounding is Python's (numpy's ``round`` scales and rounds, a different result)."""
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    lo, hi = float(ordered[low]), float(ordered[high])
    return round(lo + (hi - lo) * (rank - low), 3)


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def group(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    out: dict[K, list[T]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(out)


@dataclass
class CallStats:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    within_30s: int = 0
    within_60s: int = 0
    in_progress: int = 0  # neither answered nor ended yet
    wait_p50: float | None = None
    wait_p90: float | None = None
    wait_p99: float | None = None
    wait_max: float | None = None
    abandon_wait_p50: float | None = None
    answered_rate: float | None = None
    within_30s_rate: float | None = None
    within_60s_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def call_stats(calls: Iterable[CallFact]) -> CallStats:
    """Rates are over calls offered, as the national figures are (88 % answered).

    Counted in locals, not on the result: over a month this runs once per call and
    grouping (day, hour, week, line, territory), about six times per call."""
    offered = in_progress = 0
    waits: list[float] = []
    abandon_waits: list[float] = []
    for c in calls:
        offered += 1
        if c.answered_at is not None:
            w = c.wait_seconds
            waits.append(w if w is not None else (c.answered_at - c.offered_at).total_seconds())
        elif c.abandoned:
            if c.ended_at is not None:
                abandon_waits.append(max(0.0, (c.ended_at - c.offered_at).total_seconds()))
            else:
                abandon_waits.append(-1.0)  # abandoned, end unknown: counted, no wait
        else:
            in_progress += 1
    waits.sort()
    return stats_of_waits(offered, in_progress, waits, abandon_waits)


def stats_of_waits(
    offered: int, in_progress: int, waits: Waits, abandon_waits: list[float]
) -> CallStats:
    """The figures of a group of calls from its answered waits, sorted (a list or a
    numpy array), and its abandon waits (-1: abandoned, end unknown)."""
    s = CallStats(
        offered=offered, answered=len(waits), abandoned=len(abandon_waits), in_progress=in_progress
    )
    s.within_30s = bisect_right(waits, 30)
    s.within_60s = bisect_right(waits, 60)
    s.wait_p50, s.wait_p90, s.wait_p99 = (
        _rank(waits, q) if len(waits) else None for q in (50, 90, 99)
    )
    s.wait_max = round(float(waits[-1]), 3) if len(waits) else None
    s.abandon_wait_p50 = percentile([w for w in abandon_waits if w >= 0], 50)
    s.answered_rate = ratio(s.answered, s.offered)
    s.within_30s_rate = ratio(s.within_30s, s.offered)
    s.within_60s_rate = ratio(s.within_60s, s.offered)
    return s


@dataclass
class DossierStats:
    total: int = 0
    by_track: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)
    by_track_priority: dict[str, int] = field(default_factory=dict)  # "SNP/P2"
    moved: int = 0
    mg_share: float | None = None  # SNP (médecine générale) among dossiers with a track
    amu_share: float | None = None
    snp_oriented_consultation: int = 0
    transformation_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dossier_stats(dossiers: Iterable[DossierFact]) -> DossierStats:
    """Tracks are counted where the dossier ended: a move SNP → AMU counts in AMU."""
    pairs: Counter[tuple[str | None, str | None]] = Counter()
    moved = oriented = 0
    for d in dossiers:
        pairs[(d.track, d.priority)] += 1
        if d.moves:
            moved += 1
        if d.track == "SNP" and d.decision == "ORIENT" and d.orientation == "CONSULTATION_48H":
            oriented += 1  # DossierFact.oriented_to_consultation, inlined: the hot loop
    return stats_of_pairs(pairs, moved, oriented)


def stats_of_pairs(
    pairs: Counter[tuple[str | None, str | None]], moved: int, oriented: int
) -> DossierStats:
    """The figures of a group of dossiers from its counts per (track, priority), the
    dossiers moved and the SNP dossiers oriented to a consultation."""
    tracks: Counter[str] = Counter()
    prios: Counter[str] = Counter()
    named: Counter[str] = Counter()
    for (track_, prio_), n in pairs.items():
        track, prio = track_ or "sans filière", prio_ or "non qualifié"
        tracks[track] += n
        prios[prio] += n
        named[f"{track}/{prio}"] += n
    s = DossierStats(total=sum(pairs.values()), moved=moved, snp_oriented_consultation=oriented)
    s.by_track, s.by_priority = dict(sorted(tracks.items())), dict(sorted(prios.items()))
    s.by_track_priority = dict(sorted(named.items()))
    with_track = tracks["SNP"] + tracks["AMU"]
    s.mg_share, s.amu_share = ratio(tracks["SNP"], with_track), ratio(tracks["AMU"], with_track)
    s.transformation_rate = ratio(s.snp_oriented_consultation, tracks["SNP"])
    return s


@dataclass
class TaskStats:
    created: int = 0
    closed: int = 0
    cancelled: int = 0
    appointments: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    no_solution_reasons: dict[str, int] = field(default_factory=dict)
    to_appointment_p50_hours: float | None = None  # search → appointment found
    to_appointment_p90_hours: float | None = None
    to_consultation_p50_hours: float | None = None  # search → the consultation itself
    consultation_within_48h: int = 0
    closed_after_deadline: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def task_stats(tasks: Iterable[TaskFact], period: Period | None = None) -> TaskStats:
    """Searches created in the period, and those that ended in it (on their closing day)."""
    s = TaskStats()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    delays: list[float] = []
    until: list[float] = []
    for t in tasks:
        if t.created_at is not None and (period is None or period.contains(t.created_at)):
            s.created += 1
        if t.closed_at is None or (period is not None and not period.contains(t.closed_at)):
            continue
        if t.cancelled:
            s.cancelled += 1
            continue
        s.closed += 1
        outcomes[t.outcome or "?"] += 1
        if t.outcome == TaskOutcome.SANS_SOLUTION:
            reasons[t.no_solution_reason or "?"] += 1
        elif t.outcome:
            s.appointments += 1
            if t.seconds_to_outcome is not None:
                delays.append(t.seconds_to_outcome / 3600)
            if t.appointment_at is not None and t.created_at is not None:
                hours = (t.appointment_at - t.created_at).total_seconds() / 3600
                until.append(hours)
                s.consultation_within_48h += hours <= 48
        if t.deadline_at is not None and t.closed_at is not None and t.closed_at > t.deadline_at:
            s.closed_after_deadline += 1
    s.by_outcome = {str(o): outcomes.get(str(o), 0) for o in TaskOutcome}
    s.no_solution_reasons = dict(sorted(reasons.items()))
    s.to_appointment_p50_hours = percentile(delays, 50)
    s.to_appointment_p90_hours = percentile(delays, 90)
    s.to_consultation_p50_hours = percentile(until, 50)
    return s


@dataclass
class AppointmentStats:
    """Call-back appointments followed to the end, counted on the day their status was set."""

    confirmed: int = 0
    honoured: int = 0
    no_show: int = 0
    cancelled: int = 0
    no_show_rate: float | None = None  # no-shows among appointments that took place or not

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def appointment_stats(
    appointments: Iterable[AppointmentFact], period: Period | None = None
) -> AppointmentStats:
    """From ``callback.appointment_status``: an appointment's status is final once
    honoured, missed (NO_SHOW) or cancelled, so each counts once."""
    s = AppointmentStats()
    for a in appointments:
        if period is not None and not period.contains(a.status_at):
            continue
        if a.status == "CONFIRMED":
            s.confirmed += 1
        elif a.status == "HONOURED":
            s.honoured += 1
        elif a.status == "NO_SHOW":
            s.no_show += 1
        elif a.status == "CANCELLED":
            s.cancelled += 1
    s.no_show_rate = ratio(s.no_show, s.honoured + s.no_show)
    return s


@dataclass
class ProfessionStats:
    """One line of "by profession": whom the regulating doctor asked for."""

    label: str
    decisions: int = 0  # consultation decisions (dossiers opened in the period)
    appointments: int = 0  # searches closed in the period with an appointment
    honoured: int = 0  # call-back appointments honoured in the period
    no_show: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def profession_stats(
    facts: Facts,
    period: Period,
    decisions: dict[str, int],
    appointments: dict[str, int] | None = None,
) -> dict[str, ProfessionStats]:
    """Decisions and appointments by the profession / specialty the decision named
    (``DossierFact.wanted_key``: "10/SM54", "60"…), in the vocabulary's order.
    ``decisions``: the consultation decisions of the dossiers opened in the period, per
    key, as the database counts them (``app.stats.aggregates.dossier_counts``);
    ``appointments``: the searches' appointments per key, already counted
    (``app.stats.searches``), instead of the facts'."""
    out: dict[str, ProfessionStats] = {}

    def stats(key: str) -> ProfessionStats:
        if key not in out:
            profession, _, specialty = key.partition("/")
            out[key] = ProfessionStats(wanted_label(profession, specialty))
        return out[key]

    def line(dossier_id: int | None) -> ProfessionStats | None:
        d = facts.dossiers.get(dossier_id or 0)
        key = d.wanted_key if d is not None else None
        return None if key is None else stats(key)

    for key, n in decisions.items():
        stats(key).decisions += n
    for key, n in (appointments or {}).items():
        stats(key).appointments += n
    for t in facts.tasks.values() if appointments is None else ():
        if t.cancelled or t.closed_at is None or not period.contains(t.closed_at):
            continue
        if t.outcome and t.outcome != TaskOutcome.SANS_SOLUTION:
            if (x := line(t.dossier_id)) is not None:
                x.appointments += 1
    for a in facts.appointments.values():
        if not period.contains(a.status_at) or a.status not in ("HONOURED", "NO_SHOW"):
            continue
        if (x := line(a.dossier_id)) is not None:
            if a.status == "HONOURED":
                x.honoured += 1
            else:
                x.no_show += 1
    order = {w.key: i for i, (_, w) in enumerate(CHOICES)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def snp_visits_per_week(facts: Facts, cap: int) -> list[dict[str, Any]]:
    """Regulated SNP patients per effecteur and (Paris) week, against the weekly cap."""
    per_hour: Counter[tuple[int, int]] = Counter()  # (effecteur, UTC hour): a week each
    assert facts.period is not None
    start, end = facts.period.start, facts.period.end
    for b in facts.bookings.values():
        if b.released_at is None and start <= b.appointment_at < end:
            per_hour[(b.effecteur_id, int(b.appointment_at.timestamp()) // 3600)] += 1
    weeks: dict[int, str] = {}
    counts: Counter[tuple[int, str]] = Counter()
    for (effecteur, hour), n in per_hour.items():
        week = weeks.get(hour)
        if week is None:
            week = weeks[hour] = week_of(paris_hour(hour)[0]).isoformat()
        counts[(effecteur, week)] += n
    return [
        {"effecteur_id": e, "week": w, "visits": n, "cap": cap, "over_cap": n > cap}
        for (e, w), n in sorted(counts.items())
    ]
