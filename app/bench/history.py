"""``sasdesk bench history``: the caller's history and the dossier search on a million
dossiers, JSON figures.

Builds a temporary SQLite database with the hub's migrations, fills it with
``--dossiers`` dossiers over a year (bulk inserts; callers skewed so that some call
often, names drawn from a few thousand surnames), then times the hub's own queries
(app.history.query) twice in the same run: first without the history indexes
(the baseline: what the hub did before migration 0011, a scan), then with them.
Both runs must return the same dossiers; the JSON says so.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Dossier, User
from app.history.models import HISTORY_INDEXES
from app.history.query import Search, caller_history, search_dossiers

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SYLLABLES = ("ber", "mar", "tin", "lau", "ro", "du", "pon", "gi", "rard", "mo", "reau",
             "le", "fe", "vre", "bon", "net", "fau", "chet", "bru", "nel", "cha")  # fmt: skip
FIRST = ("Jeanne", "Louis", "Marie", "Jean", "Lucie", "Paul", "Emma", "Hugo", "Léa", "Zoé",
         "Jules", "Chloé", "Nathan", "Inès", "Gabriel", "Camille", "Arthur")  # fmt: skip


def _surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()


def _phone(rng: random.Random, callers: int) -> str:
    # Skewed: a small share of numbers makes many calls (paretovariate's long tail).
    n = (
        min(int(rng.paretovariate(1.2)) - 1, callers - 1)
        if rng.random() < 0.3
        else rng.randrange(callers)
    )
    return f"06{n:08d}"


def generate(engine: Engine, count: int, rng: random.Random) -> dict[str, Any]:
    started = time.perf_counter()
    with make_sessionmaker(engine).begin() as s:
        s.add(User(username="bench", display_name="bench", role="ARM_N1", password_hash="x"))
    surnames = sorted({_surname(rng) for _ in range(4000)})
    callers = max(count // 3, 10)
    chunk = 50_000
    with engine.begin() as conn:
        for start in range(0, count, chunk):
            rows = []
            for n in range(start, min(start + chunk, count)):
                at = NOW - timedelta(seconds=rng.randrange(365 * 86400))
                rows.append({
                    "number": f"{at:%Y%m%d}-{n:07d}", "version": 1, "line": "15",
                    "caller_number": _phone(rng, callers), "status": "CLOSED",
                    "priority": rng.choice(("P0", "P1", "P2", "P3")), "reflex": False,
                    "opened_by_id": 1, "answered_at": at, "updated_at": at, "closed_at": at,
                    "patient_last_name": rng.choice(surnames),
                    "patient_first_name": rng.choice(FIRST), "patient_sex": "",
                    "callback_number": "", "commune_insee": "", "commune_name": "",
                    "address": "", "motif": "", "notes": "", "treating_doctor": "",
                    "decision": rng.choice((None, "CONSEIL", "PMT", "ORIENT", "INTER")),
                    "decision_comment": "", "close_reason": "",
                })  # fmt: skip
            conn.execute(insert(Dossier), rows)
    return {"dossiers": count, "distinct_surnames": len(surnames), "callers": callers,
            "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip


def _queries(s: Session, rng: random.Random, n: int) -> tuple[list[str], list[Search]]:
    """Numbers that rang (half of them frequent callers) and searches of every kind."""
    sample = s.execute(
        text("SELECT caller_number, number, patient_last_name, patient_first_name, answered_at "
             "FROM dossiers WHERE id IN (SELECT abs(random()) % (SELECT max(id) FROM dossiers) "
             "+ 1 FROM dossiers LIMIT :n)"), {"n": n * 3}
    ).all()  # fmt: skip
    sample = list(sample)
    rng.shuffle(sample)
    numbers = [r[0] for r in sample[:n]]
    searches: list[Search] = []
    for i, (phone, number, last, first, at) in enumerate(sample[n:]):
        day = (at if isinstance(at, datetime) else datetime.fromisoformat(str(at))).date()
        kind = i % 5
        searches.append(
            Search(number=number) if kind == 0
            else Search(name=f"{last} {first[:2]}") if kind == 1
            else Search(name=last[:4]) if kind == 2
            else Search(since=day, until=day) if kind == 3
            else Search(phone=phone, since=day - timedelta(days=90), until=date(2026, 11, 24))
        )  # fmt: skip
    return numbers, searches[:n]


def _time(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[Any]]:
    times, answers = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        answers.append(fn())
        times.append((time.perf_counter() - t0) * 1000)
    return times, answers


def _stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 3), "p95_ms": round(p95, 3),
            "max_ms": round(ordered[-1], 3)}  # fmt: skip


def measure(s: Session, numbers: list[str], searches: list[Search]) -> dict[str, Any]:
    it_n, it_s = iter(numbers), iter(searches)
    h_ms, h_ans = _time(lambda: [d.id for d in caller_history(s, next(it_n), NOW, 30, 1)
                                 .dossiers], len(numbers))  # fmt: skip
    s_ms, s_ans = _time(lambda: [d.id for d in search_dossiers(s, next(it_s))], len(searches))
    s.expunge_all()
    return {"history": _stats(h_ms), "search": _stats(s_ms), "answers": (h_ans, s_ans)}


def run_history_bench(
    dossiers: int, lookups: int, baseline_lookups: int, seed: int = 17
) -> dict[str, Any]:
    """The year of dossiers generated, the queries timed without then with the history
    indexes: the figures (``same_answers``: both runs found the same dossiers)."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="sasdesk-bench-history-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'history.db'}")
        upgrade(engine)
        for index in HISTORY_INDEXES:
            index.drop(engine)  # the baseline runs first, without them
        gen = generate(engine, dossiers, rng)
        sessions = make_sessionmaker(engine)
        with sessions() as s:
            numbers, searches = _queries(s, rng, lookups)
            base = measure(s, numbers[: baseline_lookups],
                           searches[: baseline_lookups])  # fmt: skip
        t0 = time.perf_counter()
        for index in HISTORY_INDEXES:
            index.create(engine)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        index_s = time.perf_counter() - t0
        with sessions() as s:
            fast = measure(s, numbers, searches)
        engine.dispose()
    same = all(fast["answers"][k][:baseline_lookups] == base["answers"][k] for k in (0, 1))
    out = {
        "bench": "history",
        "generated": gen,
        "index_build_seconds": round(index_s, 2),
        "indexed": {"history": fast["history"], "search": fast["search"]},
        "baseline_without_indexes": {"history": base["history"], "search": base["search"]},
        "ratio_p95": {k: round(base[k]["p95_ms"] / max(fast[k]["p95_ms"], 1e-6), 1)
                      for k in ("history", "search")},  # fmt: skip
        "same_answers": same,
        "search_kinds": ["dossier number", "last name + first-name prefix",
                         "surname prefix (4 letters)", "one day", "number over 90 days"],
    }  # fmt: skip
    return out
