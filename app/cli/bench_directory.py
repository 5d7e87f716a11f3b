"""``sasdesk bench directory``: the national directory's import and search
(app.bench.directory)."""

from __future__ import annotations

import argparse
import json

from app.cli import add_db_option


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("directory", help="annuaire national : import RPPS et recherche")
    add_db_option(parser)
    parser.add_argument("--rows", type=int, default=1_000_000, help="lignes de l'extraction")
    parser.add_argument("--doctors", type=int, default=100_000, help="médecins généralistes")
    parser.add_argument("--hours", type=int, default=72)
    parser.add_argument(
        "--slots-per-doctor", type=float, default=4.0, help="créneaux par généraliste (moyenne)"
    )
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--baseline-searches", type=int, default=40)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.directory import DirectoryOptions, run_directory_bench
    from app.cli.options import options_of

    out = run_directory_bench(options_of(DirectoryOptions, args))
    print(json.dumps(out, indent=None if args.json else 2, ensure_ascii=False))
    return 0
