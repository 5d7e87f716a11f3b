"""``sasdesk bench history``: the caller's history and the dossier search on a million
dossiers (app.bench.history)."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("history", help="antériorités et recherche de dossiers (JSON)")
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=400, help="mesures avec les index")
    parser.add_argument("--baseline-lookups", type=int, default=15,
                        help="mesures sans les index (parcours complet, plus lentes)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.history import run_history_bench

    out = run_history_bench(args.dossiers, args.lookups, args.baseline_lookups, args.seed)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k in ("history", "search"):
            fast, base = out["indexed"][k], out["baseline_without_indexes"][k]
            print(f"{k}: p95 {fast['p95_ms']} ms (sans index : {base['p95_ms']} ms)")
    return 0 if out["same_answers"] else 1
