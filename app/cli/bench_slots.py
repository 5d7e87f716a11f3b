"""``sasdesk bench slots``: the slot search on a Nord-sized directory (app.bench.slots)."""

from __future__ import annotations

import argparse
import json

from app.cli import add_db_option


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("slots", help="recherche de créneaux : moteur vs requête SQL")
    add_db_option(parser)
    parser.add_argument("--effecteurs", type=int, default=3400)
    parser.add_argument("--hours", type=int, default=72)
    parser.add_argument("--department", default="59")
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument(
        "--baseline-searches",
        type=int,
        default=60,
        help="recherches rejouées par la référence SQL (plus lente)",
    )
    parser.add_argument(
        "--fhir-share",
        type=float,
        default=0.15,
        help="part des créneaux importés en FHIR plutôt qu'en CSV",
    )
    parser.add_argument("--seed", type=int, default=59)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.slots import SlotsOptions, run_slots_bench
    from app.cli.options import options_of

    out = run_slots_bench(options_of(SlotsOptions, args))
    print(json.dumps(out, indent=None if args.json else 2, ensure_ascii=False))
    return 0
