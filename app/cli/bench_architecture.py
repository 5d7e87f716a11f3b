"""``sasdesk bench architecture``: import cycles, imports against the layers, sizes (JSON)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import architecture

    parser = sub.add_parser(
        "architecture",
        help="cycles d'imports, imports qui remontent les couches, tailles, Any",
        description=architecture.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON sur une ligne")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.architecture import measure

    try:
        result = measure()
    except ModuleNotFoundError as exc:  # grimp comes with the test extras
        print(f"sasdesk bench architecture : {exc} (pip install -e '.[test]')", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True, indent=None if args.json else 2))
    return 0
