"""``sasdesk bench slots``: a Nord-sized directory, a thousand searches, JSON figures.

Generates ``--effecteurs`` doctors over the real communes of the department (placed
by population), their slots for ``--hours`` hours, imports them through the real
CSV and FHIR importers (throughput), then times the engine (index sync + search +
weekly counts, as the hub runs it) against a straightforward baseline: one SQL
query for the doctors and slots of the bounding box, then filtering and sorting in
Python with the same ranking rules. Both answers are compared on every baseline run.
The department is covered by CPTS whose ROR zones (``sasdesk import ror``'s NDJSON)
hold about ``CPTS_COMMUNES`` communes each, a share of the participants taking part
through them: every engine search also builds the patient's CPTS block.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import math
import random
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.orm import Session, sessionmaker

    from app.directory.engine import DirectoryIndex

Options = TypeVar("Options")


@dataclass(frozen=True)
class SlotsOptions:
    """What ``sasdesk bench slots`` is asked for (its options, by the same names)."""

    db: str | None = None
    effecteurs: int = 3400
    hours: int = 72
    department: str = "59"
    searches: int = 1000
    baseline_searches: int = 60
    fhir_share: float = 0.15
    seed: int = 59


LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefebvre",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefevre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clement",
    "Dumont",
    "Lecomte",
    "Caron",
    "Delattre",
    "Vandamme",
    "Deschamps",
    "Lemaire",
    "Duhamel",
]
FIRST = [
    "Marie",
    "Nathalie",
    "Isabelle",
    "Sophie",
    "Julie",
    "Claire",
    "Anne",
    "Camille",
    "Pierre",
    "Jean",
    "Nicolas",
    "Thomas",
    "Julien",
    "Olivier",
    "Antoine",
    "Luc",
]
SKILLS = ["pédiatrie", "sutures", "ECG", "petite traumatologie", "gynécologie"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


#: Communes per CPTS zone in the generated department (the Nord: ~25 CPTS).
CPTS_COMMUNES = 25


def ror_export(communes: list[Any], path: Path) -> dict[str, str]:
    """The department cut into CPTS zones, written as the ROR's $export (NDJSON);
    returns each commune's CPTS name."""
    td = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-territorial-division"
    cpts_of: dict[str, str] = {}
    lines = []
    ordered = sorted(communes, key=lambda c: c.insee)
    for n in range(0, len(ordered), CPTS_COMMUNES):
        zone = ordered[n : n + CPTS_COMMUNES]
        key = n // CPTS_COMMUNES
        name = f"CPTS Bench {key:03d}"
        org = {
            "resourceType": "Organization", "id": f"o{key}", "name": name,
            "identifier": [{"system": "https://finess.esante.gouv.fr", "value": f"99{key:07d}"}],
        }  # fmt: skip
        offer = {
            "resourceType": "HealthcareService", "id": f"hs{key}",
            "providedBy": {"reference": f"Organization/o{key}"},
            "telecom": [{"system": "phone", "value": f"03{key:08d}"}],
            "extension": [
                {"url": td, "extension": [{"url": "codeTerritorialDivision",
                 "valueCodeableConcept": {"coding": [{"code": c.insee}]}}]}
                for c in zone
            ],
        }  # fmt: skip
        lines += [json.dumps(org), json.dumps(offer)]
        cpts_of.update({c.insee: name for c in zone})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cpts_of


def generate(args: SlotsOptions, workdir: Path, now: datetime) -> dict[str, Any]:
    """The department's files: ROR zones, doctors (CSV), their slots in CSV and in a
    FHIR bundle; one random generator drawn in that order, so a seed gives one set."""
    from app.geo import default_index

    rng = random.Random(args.seed)
    communes = [c for c in default_index().in_department(args.department) if c.population]
    weights = [c.population or 0 for c in communes]
    ror = workdir / "ror.ndjson"
    cpts_of = ror_export(communes, ror)
    doctors = _doctors(args, rng, communes, weights, cpts_of)
    eff_csv = workdir / "effecteurs.csv"
    with eff_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(doctors[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(doctors)
    csv_rows, fhir_slots = _slots(args, rng, doctors, now)
    slots_csv = workdir / "slots.csv"
    with slots_csv.open("w", newline="", encoding="utf-8") as fh:
        rows_writer = csv.writer(fh)
        rows_writer.writerow(
            ["rpps", "debut", "fin", "type", "capacite", "visibilite", "reference"]
        )
        rows_writer.writerows(csv_rows)
    bundle = workdir / "slots.json"
    bundle.write_text(json.dumps(_fhir_bundle(fhir_slots)), encoding="utf-8")
    return {
        "ror": ror,
        "cpts": len(set(cpts_of.values())),
        "effecteurs_csv": eff_csv,
        "slots_csv": slots_csv,
        "bundle": bundle,
        "csv_slots": len(csv_rows),
        "fhir_slots": sum(len(v) for v in fhir_slots.values()),
        "communes": communes,
        "weights": weights,
        "doctors": doctors,
    }


def _doctors(
    args: SlotsOptions,
    rng: random.Random,
    communes: list[Any],
    weights: list[int],
    cpts_of: dict[str, str],
) -> list[dict[str, str]]:
    """``args.effecteurs`` doctors placed by population, some in group practices, some
    taking part in the SAS through their CPTS: the rows of the effecteurs CSV."""
    from app.geo import default_index

    doctors = []
    addresses: list[tuple[str, str]] = []
    for i in range(args.effecteurs):
        if addresses and rng.random() < 0.3:  # group practice: same address, confrères
            insee, address = rng.choice(addresses[-50:])
            commune = default_index().by_insee(insee)
        else:
            commune = rng.choices(communes, weights)[0]
            address = f"{rng.randint(1, 200)} rue {rng.choice(LAST)}"
            addresses.append((commune.insee, address))
        assert commune is not None
        sas = rng.random() < 0.6
        via_cpts = sas and rng.random() < 0.3
        doctors.append(
            {
                "rpps": f"1{i:010d}",
                "nom": f"{rng.choice(LAST)}",
                "prenom": rng.choice(FIRST),
                "specialite": "Pédiatrie" if rng.random() < 0.05 else "Médecine générale",
                "cabinet": "Cabinet médical",
                "adresse": address,
                "commune_insee": commune.insee,
                "participant_sas": "oui" if sas else "non",
                "mode": "CPTS" if via_cpts else "individuel",
                "structure": cpts_of.get(commune.insee, "") if via_cpts else "",
                "hors_dispo": "oui" if rng.random() < 0.4 else "non",
                "niveau_agenda": rng.choice(["aucun", "visibilite", "bout_en_bout"]),
                "competences": "|".join(rng.sample(SKILLS, rng.randint(0, 2))),
            }
        )
    return doctors


FhirSlots = dict[str, list[tuple[str, str, str, str]]]


def _slots(
    args: SlotsOptions, rng: random.Random, doctors: list[dict[str, str]], now: datetime
) -> tuple[list[list[Any]], FhirSlots]:
    """Each doctor's slots over ``args.hours`` (Paris opening hours, no Sunday): CSV rows,
    or for a share of the doctors (``fhir_share``) FHIR slots by RPPS."""
    from app.directory.vocab import PARIS

    csv_rows: list[list[Any]] = []
    fhir_slots: FhirSlots = defaultdict(list)
    start_day = now.astimezone(PARIS).date()
    n = 0
    for d in doctors:
        fhir = rng.random() < args.fhir_share
        for day_offset in range(args.hours // 24 + 1):
            day = start_day + timedelta(days=day_offset)
            if day.weekday() == 6:
                continue
            for minute in sorted(rng.sample(range(8 * 60, 19 * 60, 15), rng.randint(24, 36))):
                local = datetime(
                    day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=PARIS
                )
                start = local.astimezone(UTC)
                if not now <= start < now + timedelta(hours=args.hours):
                    continue
                ctype = rng.choices(("cabinet", "teleconsultation", "visite"), (8, 2, 1))[0]
                cap = 5 if rng.random() < 0.02 else 1
                end = start + timedelta(minutes=75 if cap > 1 else 15)
                n += 1
                if fhir:
                    code = {"cabinet": "AMB", "teleconsultation": "VR", "visite": "HH"}[ctype]
                    fhir_slots[d["rpps"]].append(
                        (start.isoformat(), end.isoformat(), code, f"s{n}")
                    )
                else:
                    csv_rows.append(
                        [
                            d["rpps"],
                            start.isoformat(),
                            end.isoformat(),
                            ctype,
                            cap,
                            rng.choice(("SNP", "SNP", "PUBLIC", "PRO", "CPTS")),
                            f"c{n}",
                        ]
                    )
    return csv_rows, fhir_slots


def _fhir_bundle(fhir_slots: FhirSlots) -> dict[str, Any]:
    """The FHIR slots as an agenda editor's searchset: per doctor a Practitioner (its
    national identifier: 8 and the RPPS), a Schedule, and its Slots."""
    entries: list[dict[str, Any]] = []
    security = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
    for rpps, slots in fhir_slots.items():
        entries.append(
            {
                "resource": {
                    "resourceType": "Practitioner",
                    "id": f"p{rpps}",
                    "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": f"8{rpps}"}],
                }
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Schedule",
                    "id": f"sc{rpps}",
                    "actor": [{"reference": f"Practitioner/p{rpps}"}],
                }
            }
        )
        for start_iso, end_iso, code, sid in slots:
            entries.append(
                {
                    "resource": {
                        "resourceType": "Slot",
                        "id": sid,
                        "status": "free",
                        "start": start_iso,
                        "end": end_iso,
                        "schedule": {"reference": f"Schedule/sc{rpps}"},
                        "meta": {"security": [{"system": security, "code": "SNP"}]},
                        "serviceType": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                        "code": code,
                                    }
                                ]
                            }
                        ],
                    }
                }
            )
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def realistic_queries(gen: dict[str, Any], count: int, seed: int) -> list[Any]:
    from app.directory.query import SearchQuery

    rng = random.Random(seed + 1)
    queries = []
    for _ in range(count):
        commune = rng.choices(gen["communes"], gen["weights"])[0]
        bands: tuple[str, ...] = ()
        if rng.random() < 0.5:
            bands = tuple(rng.sample(["0-4", "4-8", "8-12", "12-24", "24-48"], rng.randint(1, 2)))
        types: tuple[Any, ...] = ()
        if rng.random() < 0.3:
            types = (rng.choice(["cabinet", "teleconsultation", "visite"]),)
        mt = ""
        if rng.random() < 0.5:
            d = rng.choice(gen["doctors"])
            mt = f"Dr {d['prenom']} {d['nom']}"
        age = rng.choice([2, 5, 9]) if rng.random() < 0.2 else rng.randint(16, 90)
        queries.append(
            SearchQuery(
                commune_insee=commune.insee,
                bands=bands,
                types=types,
                patient_age=age,
                treating_doctor=mt,
                motif=rng.choice(["fièvre", "plaie de la main", "toux", "entorse de cheville", ""]),
            )
        )
    return queries


@dataclass
class TimedSearches:
    engine_ms: list[float]
    base_ms: list[float]
    candidates: list[int]
    identical: int  # baseline searches that ranked the same doctors, tiers, earliest slots
    #: Participants listed under the patient's CPTS, one entry per CPTS shown.
    cpts_shown: list[int]

    @property
    def engine_p95(self) -> float:
        return _pct(self.engine_ms, 0.95)

    @property
    def base_p95(self) -> float:
        return _pct(self.base_ms, 0.95)

    def figures(self) -> dict[str, Any]:
        """Percentiles of both, their ratios, the rankings compared."""
        e50, e95 = statistics.median(self.engine_ms), self.engine_p95
        b50, b95 = statistics.median(self.base_ms), self.base_p95
        n_base = len(self.base_ms)
        return {
            "engine_ms": {"p50": round(e50, 2), "p95": round(e95, 2),
                          "max": round(max(self.engine_ms), 2)},
            "baseline_ms": {"p50": round(b50, 2), "p95": round(b95, 2), "searches": n_base},
            "ratio_p50": round(b50 / e50, 1),
            "ratio_p95": round(b95 / e95, 1),
            "baseline_same_ranking": f"{self.identical}/{n_base}",
            "mean_candidates": round(statistics.mean(self.candidates), 1),
        }  # fmt: skip


def time_searches(
    sessions: Any, index: Any, queries: list[Any], now: datetime, baseline: int
) -> TimedSearches:
    """Every query through the engine as the hub runs it (a session, the index sync,
    the search with this week's SNP counts), then the first ``baseline`` ones through
    the SQL baseline, the rankings compared."""
    from app.directory.baseline import baseline_search
    from app.directory.booking import weekly_snp_counts

    engine_ms: list[float] = []
    # Only what the comparison needs: keeping 1,000 full replies alive would make the
    # garbage collector, not the engine, the thing measured.
    engine_top: list[list[tuple[int, int, datetime | None]]] = []
    candidates: list[int] = []
    cpts_shown: list[int] = []
    for q in queries:
        t0 = time.perf_counter()
        with sessions() as s:
            index.sync(s, now)
            result = index.search(q, now)  # this week's SNP counts come with it
        engine_ms.append((time.perf_counter() - t0) * 1000)
        candidates.append(result.candidates)
        cpts_shown += [len(c["participants"]) for c in result.cpts]
        if len(engine_top) < baseline:
            engine_top.append([(d.effecteur_id, d.tier, d.earliest) for d in result.doctors])
        del result
    base_ms: list[float] = []
    identical = 0
    n_base = min(baseline, len(queries))
    for q, ours in zip(queries[:n_base], engine_top[:n_base], strict=True):
        t0 = time.perf_counter()
        with sessions() as s:
            theirs = baseline_search(s, q, now)
            weekly_snp_counts(s, [d[0] for d in theirs], now)
        base_ms.append((time.perf_counter() - t0) * 1000)
        identical += ours == [(d[0], d[1], d[2]) for d in theirs]
    return TimedSearches(engine_ms, base_ms, candidates, identical, cpts_shown)


@contextlib.contextmanager
def bench_workdir(prefix: str, db: str | None) -> Iterator[tuple[Path, str]]:
    """A temporary directory for the bench's files and the database's URL: ``db`` if
    given, else a SQLite file in that directory."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        yield workdir, db or f"sqlite:///{workdir / 'bench.sqlite3'}"


def prepare_in_child(
    prepare: Callable[[Options, Path, sessionmaker[Session], datetime], dict[str, Any]],
    args: Options,
    workdir: Path,
    url: str,
    now: datetime,
) -> dict[str, Any]:
    """``prepare(args, workdir, sessions, now)`` on the database at ``url``, migrated
    first, in a spawned child process: the searches are then timed in a process whose
    memory holds the index, as a hub's does, not the debris of the generated and
    imported rows, and the child's peak memory is the preparation's own. ``prepare``
    must be a module's function (the child imports it)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        child = functools.partial(prepare, args, workdir)  # pickled: prepare by its name
        return pool.submit(_prepare_migrated, child, url, now).result()


def _prepare_migrated(
    prepare: Callable[[sessionmaker[Session], datetime], dict[str, Any]], url: str, now: datetime
) -> dict[str, Any]:
    """The child's side of ``prepare_in_child``."""
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        return prepare(make_sessionmaker(engine), now)
    finally:
        engine.dispose()


def synced_index(sessions: sessionmaker[Session], now: datetime) -> tuple[DirectoryIndex, float]:
    """The hub's in-memory engine loaded from the database, and the load's seconds."""
    from app.directory.engine import DirectoryIndex

    index = DirectoryIndex()
    t0 = time.perf_counter()
    with sessions() as s:
        index.sync(s, now)
    return index, time.perf_counter() - t0


def prepare(
    args: SlotsOptions, workdir: Path, sessions: sessionmaker[Session], now: datetime
) -> dict[str, Any]:
    """Generate the department and import it (in a child process: ``prepare_in_child``)."""
    from sqlalchemy import func, select, update

    from app.directory.imports.effecteurs import import_effecteurs
    from app.directory.imports.ror import import_ror
    from app.directory.imports.slots import import_slots
    from app.directory.models import Slot, bump_revision

    gen = generate(args, workdir, now)
    t0 = time.perf_counter()
    ror_report = import_ror(sessions, gen["ror"])
    ror_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    eff_report = import_effecteurs(sessions, gen["effecteurs_csv"], now=now)
    eff_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    csv_report = import_slots(sessions, gen["slots_csv"], now=now)
    csv_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fhir_report = import_slots(sessions, gen["bundle"], now=now)
    fhir_s = time.perf_counter() - t0
    with sessions.begin() as s:  # some places already taken, as in a real afternoon
        rev = bump_revision(s)
        s.execute(update(Slot).where(Slot.id % 9 == 0).values(booked=Slot.capacity, rev=rev))
    with sessions() as s:
        total_slots = int(s.scalar(select(func.count(Slot.id))) or 0)
    return {
        "doctors": [{"prenom": d["prenom"], "nom": d["nom"]} for d in gen["doctors"]],
        "effecteurs": eff_report.accepted,
        "effecteurs_per_s": eff_report.accepted / eff_s,
        "csv_slots": csv_report.accepted,
        "csv_per_s": csv_report.accepted / csv_s,
        "fhir_slots": fhir_report.accepted,
        "fhir_per_s": fhir_report.accepted / fhir_s,
        "cpts": ror_report.accepted,
        "ror_s": ror_s,
        "rejected": len(csv_report.rejected) + len(fhir_report.rejected) + len(ror_report.rejected),
        "total_slots": total_slots,
    }


def _cpts_block_cost(
    sessions: sessionmaker[Session], index: DirectoryIndex, queries: list[Any], now: datetime
) -> tuple[list[float], list[float]]:
    """What the patient's CPTS block costs: the same searches with and without the
    commune → CPTS map, alternately, in this run (milliseconds with, without)."""
    with_cpts: list[float] = []
    without_cpts: list[float] = []
    zones = index.cpts_of_commune
    for i, q in enumerate(queries):
        for on in (True, False) if i % 2 else (False, True):
            index.cpts_of_commune = zones if on else {}
            t0 = time.perf_counter()
            with sessions() as s:
                index.sync(s, now)
                index.search(q, now)
            (with_cpts if on else without_cpts).append((time.perf_counter() - t0) * 1000)
    index.cpts_of_commune = zones
    return with_cpts, without_cpts


def run_slots_bench(args: SlotsOptions) -> dict[str, Any]:
    """The department generated and imported, the searches timed: the figures."""
    from app.db.engine import make_engine, make_sessionmaker
    from app.geo import default_index

    total_t0 = time.perf_counter()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with bench_workdir("sasdesk-bench-", args.db) as (workdir, url):
        prepared = prepare_in_child(prepare, args, workdir, url, now)
        communes = [c for c in default_index().in_department(args.department) if c.population]
        gen = {
            "communes": communes,
            "weights": [c.population or 0 for c in communes],
            "doctors": prepared["doctors"],
        }
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        queries = realistic_queries(gen, args.searches, args.seed)
        index, load_s = synced_index(sessions, now)
        t0 = time.perf_counter()  # first search: loads the communes and density tables
        with sessions():
            index.search(queries[0], now)
        first_ms = (time.perf_counter() - t0) * 1000
        timed = time_searches(sessions, index, queries, now, args.baseline_searches)
        cpts_shown = timed.cpts_shown
        with_cpts, without_cpts = _cpts_block_cost(sessions, index, queries[:200], now)
        engine.dispose()
    e95, b95 = timed.engine_p95, timed.base_p95
    out = {
        "department": args.department,
        "effecteurs": prepared["effecteurs"],
        "hours": args.hours,
        "slots": prepared["total_slots"],
        "searches": len(queries),
        **timed.figures(),
        "index_load_s": round(load_s, 2),
        "first_search_ms": round(first_ms, 1),
        "cpts": {
            "count": prepared["cpts"],
            "searches_with_cpts": len(cpts_shown),
            "mean_participants_shown": round(statistics.mean(cpts_shown), 1) if cpts_shown else 0,
            "ror_import_s": round(prepared["ror_s"], 2),
            "searches_compared": len(with_cpts),
            "with_block_ms": {
                "p50": round(statistics.median(with_cpts), 2),
                "p95": round(_pct(with_cpts, 0.95), 2),
            },
            "without_block_ms": {
                "p50": round(statistics.median(without_cpts), 2),
                "p95": round(_pct(without_cpts, 0.95), 2),
            },
            "ratio_p50": round(statistics.median(with_cpts) / statistics.median(without_cpts), 2),
        },
        "import": {
            "effecteurs_csv_rows_per_s": round(prepared["effecteurs_per_s"], 1),
            "csv_slots": prepared["csv_slots"],
            "csv_slots_per_s": round(prepared["csv_per_s"], 1),
            "fhir_slots": prepared["fhir_slots"],
            "fhir_slots_per_s": round(prepared["fhir_per_s"], 1),
            "rejected": prepared["rejected"],
        },
        "targets": {"engine_p95_under_20ms": e95 < 20, "ten_times_faster_p95": b95 / e95 >= 10},
        "wall_s": round(time.perf_counter() - total_t0, 1),
    }
    return out
