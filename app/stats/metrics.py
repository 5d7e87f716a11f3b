"""The figures: answering, dossiers by track and priority, OSNP outcomes, slots.

Every function takes facts rebuilt from events (``app.stats.facts``) and returns
plain, JSON-ready values; grouping keys are Paris days, weeks, months, lines, hours.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from app.domain.enums import TaskOutcome
from app.stats.calendar import Period, local_day, week_of
from app.stats.facts import CallFact, DossierFact, Facts, TaskFact

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

#: National answering figures (2022) and the target, shown next to ours.
NATIONAL_2022 = {"answered": 0.88, "within_60s": 0.80}
TARGET_ANSWERED = 0.99


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 3)


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
    """Rates are over calls offered, as the national figures are (88 % answered)."""
    s = CallStats()
    waits: list[float] = []
    abandon_waits: list[float] = []
    for c in calls:
        s.offered += 1
        if c.answered_at is not None:
            s.answered += 1
            w = c.wait_seconds if c.wait_seconds is not None else \
                (c.answered_at - c.offered_at).total_seconds()
            waits.append(w)
            s.within_30s += w <= 30
            s.within_60s += w <= 60
        elif c.abandoned:
            s.abandoned += 1
            if c.abandon_wait is not None:
                abandon_waits.append(c.abandon_wait)
        else:
            s.in_progress += 1
    s.wait_p50, s.wait_p90, s.wait_p99 = (percentile(waits, q) for q in (50, 90, 99))
    s.wait_max = round(max(waits), 3) if waits else None
    s.abandon_wait_p50 = percentile(abandon_waits, 50)
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
    s = DossierStats()
    tracks: Counter[str] = Counter()
    prios: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for d in dossiers:
        s.total += 1
        track = d.track or "sans filière"
        prio = d.priority or "non qualifié"
        tracks[track] += 1
        prios[prio] += 1
        pairs[f"{track}/{prio}"] += 1
        s.moved += d.moves > 0
        if d.track == "SNP" and d.oriented_to_consultation:
            s.snp_oriented_consultation += 1
    s.by_track, s.by_priority = dict(sorted(tracks.items())), dict(sorted(prios.items()))
    s.by_track_priority = dict(sorted(pairs.items()))
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


def snp_visits_per_week(facts: Facts, cap: int) -> list[dict[str, Any]]:
    """Regulated SNP patients per effecteur and (Paris) week, against the weekly cap."""
    counts: Counter[tuple[int, str]] = Counter()
    for b in facts.bookings.values():
        if b.released_at is None and facts.period.contains(b.appointment_at):
            counts[(b.effecteur_id, week_of(local_day(b.appointment_at)).isoformat())] += 1
    return [{"effecteur_id": e, "week": w, "visits": n, "cap": cap, "over_cap": n > cap}
            for (e, w), n in sorted(counts.items())]
