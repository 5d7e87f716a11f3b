"""``sasdesk bench hubsante``: messages per second through the Hub Santé connector
(app.bench.hubsante)."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("hubsante", help="connecteur Hub Santé : messages par seconde")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--cases", type=int, default=100, help="dossiers distincts")
    parser.add_argument(
        "--content",
        choices=("case", "appointment"),
        default="case",
        help="RS-EDA de la part du LRM, ou RS-SAS-RDV de la part de la plateforme SAS",
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.hubsante import run_hubsante_bench

    if args.messages < 1 or not 1 <= args.cases <= args.messages:
        print("--messages ≥ 1 et 1 ≤ --cases ≤ --messages")
        return 2
    result = run_hubsante_bench(args.messages, args.cases, args.content)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        rate, base = result["connector_messages_per_s"], result["baseline_messages_per_s"]
        print(f"{rate} messages/s par le connecteur (courtier seul : {base} messages/s)")
    return 0
