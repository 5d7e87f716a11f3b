"""``sasdesk bench directory``: the national directory, imported and searched (JSON).

Generates an RPPS extraction of the real file's size (``--rows``, ``--doctors``
general practitioners over every commune of France, app/bench/rpps_extraction.py),
imports it through ``sasdesk import rpps``'s code (rows/s, the import process's peak
memory), gives the GPs slots over ``--hours``, then times the hub's in-memory engine
(index load, its memory, searches around communes drawn from the whole country by
population) against the same-run baseline: one SQL query on the same database doing
the same ranking (app/directory/baseline.py); both rankings are compared.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import random
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class DirectoryOptions:
    """What ``sasdesk bench directory`` is asked for (its options, by the same names)."""

    db: str | None = None
    rows: int = 1_000_000
    doctors: int = 100_000
    hours: int = 72
    slots_per_doctor: float = 4.0
    searches: int = 1000
    baseline_searches: int = 40
    seed: int = 17


def _trim() -> None:
    """Give freed heap back to the system (glibc), so that what is allocated next shows
    in the resident size instead of reusing pages a previous run left behind (in a test
    process, the other tests' memory)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _rss_mib() -> float:
    """Resident memory now (Linux /proc), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(
    args: DirectoryOptions, workdir: Path, sessions: sessionmaker[Session], now: datetime
) -> dict[str, Any]:
    """Generate, import, add slots; in a child process (``prepare_in_child``), so its
    memory is its own."""
    from sqlalchemy import func, select

    from app.bench.rpps_extraction import generate
    from app.directory.imports.rpps import import_rpps
    from app.directory.models import Effecteur

    t0 = time.perf_counter()
    gen = generate(workdir, args.rows, args.doctors, args.seed)
    gen_s = time.perf_counter() - t0
    before = _peak_mib()
    t0 = time.perf_counter()
    report = import_rpps(sessions, gen.path, now=now)
    import_s = time.perf_counter() - t0
    peak = _peak_mib()
    if not report.committed:
        raise RuntimeError(f"import failed: {report.aborted}")
    t0 = time.perf_counter()
    n_slots = _add_slots(sessions, args, now)
    slots_s = time.perf_counter() - t0
    with sessions() as s:
        effecteurs = int(s.scalar(select(func.count(Effecteur.id))) or 0)
    return {
        "generated_rows": gen.rows,
        "persons": gen.persons,
        "generate_s": gen_s,
        "import_s": import_s,
        "report": report.to_dict() | {"rejected": len(report.rejected)},
        "import_peak_rss_mib": peak,
        "peak_before_import_mib": before,
        "effecteurs": effecteurs,
        "slots": n_slots,
        "slots_s": slots_s,
        "gp_names": gen.gp_names,
        "file_mib": gen.path.stat().st_size / 2**20,
    }


def _add_slots(sessions: sessionmaker[Session], args: DirectoryOptions, now: datetime) -> int:
    """Slots for the general practitioners over ``args.hours`` (a tenth booked), some
    of them SAS participants or accepting patients beyond their slots: how many."""
    from sqlalchemy import insert, select, update

    from app.directory.models import Effecteur, Slot, bump_revision

    rng = random.Random(args.seed + 2)
    n_slots = 0
    with sessions.begin() as s:
        rev = bump_revision(s)
        gps = s.execute(
            select(Effecteur.id).where(Effecteur.specialty == "Médecine générale")
        ).scalars()
        batch: list[dict[str, Any]] = []
        start0 = now.replace(minute=0) + timedelta(hours=1)
        steps = args.hours * 4
        for eid in gps:
            for _ in range(rng.randint(0, int(2 * args.slots_per_doctor))):
                start = start0 + timedelta(minutes=15 * rng.randrange(steps))
                batch.append(
                    {
                        "effecteur_id": eid,
                        "start": start,
                        "end": start + timedelta(minutes=15),
                        "consultation_type": rng.choice(("cabinet", "cabinet", "teleconsultation")),
                        "source": "bench",
                        "source_ref": f"b{n_slots}",
                        "rev": rev,
                        "booked": 1 if rng.random() < 0.1 else 0,
                    }  # fmt: skip
                )
                n_slots += 1
            if len(batch) >= 20000:
                s.execute(insert(Slot), batch)
                batch = []
        if batch:
            s.execute(insert(Slot), batch)
        # Some doctors take part in the SAS or accept patients beyond their slots.
        s.execute(
            update(Effecteur)
            .where(Effecteur.specialty == "Médecine générale", Effecteur.id % 3 == 0)
            .values(sas_participant=True, rev=rev)
        )
        s.execute(
            update(Effecteur)
            .where(Effecteur.specialty == "Médecine générale", Effecteur.id % 7 == 0)
            .values(accepts_beyond_slots=True, rev=rev)
        )
    return n_slots


def run_directory_bench(args: DirectoryOptions) -> dict[str, Any]:
    """The extraction generated and imported, the searches timed: the figures."""
    from app.bench.slots import (
        bench_workdir,
        prepare_in_child,
        realistic_queries,
        synced_index,
        time_searches,
    )
    from app.db.engine import make_engine, make_sessionmaker
    from app.geo import default_index

    wall = time.perf_counter()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with bench_workdir("sasdesk-bench-dir-", args.db) as (workdir, url):
        prep = prepare_in_child(prepare, args, workdir, url, now)
        communes = [c for c in default_index() if c.population]
        gen = {
            "communes": communes,
            "weights": [c.population or 0 for c in communes],
            "doctors": [{"prenom": f, "nom": n} for f, n in prep["gp_names"]],
        }
        queries = realistic_queries(gen, args.searches, args.seed)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        gc.collect()
        _trim()
        rss0 = _rss_mib()
        index, load_s = synced_index(sessions, now)
        gc.collect()
        index_mib = _rss_mib() - rss0
        timed = time_searches(sessions, index, queries, now, args.baseline_searches)
        engine.dispose()
    rows_per_s = prep["generated_rows"] / prep["import_s"]
    out = {
        "rows": prep["generated_rows"],
        "persons_in_file": prep["persons"],
        "file_mib": round(prep["file_mib"], 1),
        "import": {
            "seconds": round(prep["import_s"], 1),
            "rows_per_s": round(rows_per_s),
            "peak_rss_mib": round(prep["import_peak_rss_mib"]),
            "peak_rss_before_import_mib": round(prep["peak_before_import_mib"]),
            "created": prep["report"]["created"],
            "rejected": prep["report"]["rejected"],
            "skipped_by_choice": prep["report"]["skipped"],
            "encoding": prep["report"]["encoding"],
        },
        "effecteurs": prep["effecteurs"],
        "slots": prep["slots"],
        "hours": args.hours,
        "index": {"load_s": round(load_s, 1), "rss_mib": round(index_mib)},
        "searches": len(queries),
        **timed.figures(),
        "targets": {
            "import_under_5_min": prep["import_s"] < 300,
            "engine_p95_under_20ms": timed.engine_p95 < 20,
            "index_under_1_gib": index_mib < 1024,
        },
        "wall_s": round(time.perf_counter() - wall, 1),
    }
    return out
