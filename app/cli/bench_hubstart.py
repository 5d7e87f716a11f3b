"""``sasdesk bench hubstart``: a hub killed -9 and started again, timed (JSON)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import hubstart

    parser = sub.add_parser(
        "hubstart",
        help="hub tué (kill -9) puis relancé : délai d'écoute et retour des postes",
        description=hubstart.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=5, help="redémarrages (défaut 5)")
    parser.add_argument("--desks", type=int, default=10, help="postes connectés (défaut 10)")
    parser.add_argument(
        "--db", default=None, metavar="URL", help="base (défaut : SQLite temporaire)"
    )
    parser.add_argument(
        "--pg-temp", action="store_true", help="démarre un PostgreSQL jetable pour l'essai"
    )
    parser.add_argument(
        "--no-pycache",
        action="store_true",
        help="garde PYTHONDONTWRITEBYTECODE de l'environnement (chaque démarrage recompile)",
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON sur une ligne")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from app.bench.hubstart import run_hubstart_bench

    logging.getLogger("app.client.hub_client").setLevel(logging.WARNING)
    if args.runs < 1 or args.desks < 1:
        print("runs et desks doivent être positifs", file=sys.stderr)
        return 2
    try:
        result = run_hubstart_bench(
            args.runs, args.desks, args.db, args.pg_temp, pycache=not args.no_pycache
        )
    except RuntimeError as exc:
        print(f"sasdesk bench hubstart : {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True, indent=None if args.json else 2))
    return 0
