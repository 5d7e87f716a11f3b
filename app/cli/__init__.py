"""The ``sasdesk`` command line. Each subcommand lives in its own module.

The desk commands import the Qt front end (``ui``) only when they run, so the core
and the hub stay importable without Qt.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

import app
from app.cli.options import add_db_option, db_url

__all__ = ["add_db_option", "build_parser", "db_url", "main"]

# Subcommand modules: each has add_parser(subparsers) and run(args) -> int.
COMMANDS = (
    "app.cli.desk",
    "app.cli.hub",
    "app.cli.users",
    "app.cli.phone",
    "app.cli.imports",
    "app.cli.report",
    "app.cli.stats_rebuild",
    "app.cli.export",
    "app.cli.audit",
    "app.cli.backup",
    "app.cli.purge",
)
BENCHES = (
    "app.cli.bench_flow",
    "app.cli.bench_sip",
    "app.cli.bench_slots",
    "app.cli.bench_report",
    "app.cli.bench_hubsante",
    "app.cli.bench_soak",
    "app.cli.bench_audio",
    "app.cli.bench_history",
    "app.cli.bench_hubstart",
    "app.cli.bench_login",
    "app.cli.bench_psc",
    "app.cli.bench_directory",
    "app.cli.bench_appointments",
    "app.cli.bench_architecture",
)


def _load(names: Sequence[str]) -> list[ModuleType]:
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def _only(argv: Sequence[str]) -> tuple[Sequence[str], Sequence[str]] | None:
    """The one module a command line needs, when its first word names it (``hub``,
    ``bench soak``…): a hub restarted after a crash need not import the desk, the
    benches and their libraries first. None: load them all (help, options first…)."""
    if not argv:
        return None
    if argv[0] == "bench" and len(argv) > 1:
        name = f"app.cli.bench_{argv[1]}"
        return ((), (name,)) if name in BENCHES else None
    name = f"app.cli.{argv[0]}"
    return ((name,), ()) if name in COMMANDS else None


def build_parser(
    only: tuple[Sequence[str], Sequence[str]] | None = None,
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sasdesk",
        description="Poste de régulation SAS/SAMU : softphone, dossier de régulation, "
        "recherche de créneaux, rappels OSNP, statistiques. Sans commande : "
        "démarre le poste avec le hub embarqué (SQLite, territoire de démo, "
        "ligne d'entraînement).",
    )
    parser.add_argument("--version", action="version", version=f"sasdesk {app.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    add_db_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE")
    commands, benches = only if only is not None else (COMMANDS, BENCHES)
    for module in _load(commands):
        module.add_parser(sub)
    bench = sub.add_parser("bench", help="mesures de performance (JSON)")
    bench_sub = bench.add_subparsers(dest="bench", metavar="MESURE", required=True)
    for module in _load(benches):
        module.add_parser(bench_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(_only(words))
    args = parser.parse_args(words)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    run = getattr(args, "run", None)
    if run is None:
        from app.cli import desk  # the embedded default

        return desk.run_embedded(args)
    return int(run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
