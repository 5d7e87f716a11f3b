"""``sasdesk bench flow``: hub round-trip latency and throughput of the regulation flow."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli import add_db_option


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "flow",
        help="latence intention → événement et débit du flux",
        description="Des postes réels (websockets) font passer des dossiers "
        "de l'appel à la clôture à travers un hub lancé dans "
        "un processus séparé ; mesure la latence entre "
        "l'intention envoyée et l'événement reçu par un autre "
        "poste.",
    )
    add_db_option(parser)
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--desks", type=int, default=20)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="dossiers menés en parallèle (défaut : un par poste N1)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=4.0,
        help="phase cadencée : dossiers arrivant par seconde (défaut 4)",
    )
    parser.add_argument(
        "--paced-seconds", type=float, default=60.0, help="durée de la phase cadencée (défaut 60 s)"
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--hubs",
        type=int,
        default=1,
        help="hubs sur la même base PostgreSQL (postes répartis entre eux)",
    )
    parser.add_argument(
        "--pg-temp", action="store_true", help="démarre un PostgreSQL jetable pour la mesure"
    )
    parser.add_argument(
        "--also-sqlite",
        type=int,
        default=None,
        metavar="POSTES",
        help="mesure aussi, dans la même invocation, un hub SQLite avec ce "
        "nombre de postes (comparaison côte à côte)",
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON (défaut)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.flow import run_flow_bench

    try:
        result = run_flow_bench(
            args.dossiers,
            args.desks,
            db_url=args.db,
            concurrency=args.concurrency,
            rate=args.rate,
            paced_seconds=args.paced_seconds,
            seed=args.seed,
            hubs=args.hubs,
            pg_temp=args.pg_temp,
        )
        if args.also_sqlite:
            sqlite = run_flow_bench(
                args.dossiers,
                args.also_sqlite,
                rate=args.rate,
                paced_seconds=args.paced_seconds,
                seed=args.seed,
            )
            result = {
                "side_by_side": _side_by_side(result, sqlite),
                "main": result,
                "sqlite": sqlite,
            }
    except (ValueError, RuntimeError) as exc:
        print(f"sasdesk bench flow : {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def _side_by_side(*runs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "db": r["db"],
            "hubs": r["hubs"],
            "desks": r["desks"],
            "paced_p99_ms": r["paced"]["event_latency_ms"]["p99"],
            "saturated_dossiers_per_second": r["saturated"]["dossiers_per_second"],
            "saturated_p99_ms": r["saturated"]["event_latency_ms"]["p99"],
            "hub_cpu_ms_per_intent": r["hub_cpu_ms_per_intent"],
            "saturated_cpu_ms_per_intent": r["saturated"].get("cpu_ms_per_intent"),
            "load_average": r["load_average"],
        }
        for r in runs
    ]
