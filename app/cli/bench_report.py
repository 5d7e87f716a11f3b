"""``sasdesk bench report``: monthly report build time and live view update latency."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="temps de construction du rapport mensuel, latence de la supervision",
        description="Écrit un mois de dossiers et leurs événements dans une base SQLite "
        "temporaire, mesure la construction du rapport mensuel (médiane de "
        "plusieurs passes, comparée à une lecture complète de la table des "
        "événements), puis la latence de mise à jour de la vue de supervision "
        "sous un flux régulier d'événements du hub.",
    )
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="passes chronométrées (défaut 5)")
    parser.add_argument("--month", default="2023-06", metavar="AAAA-MM")
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument(
        "--live-rate",
        type=float,
        default=50.0,
        help="intentions par seconde du flux de supervision (défaut 50)",
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON (défaut)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.report import run_report_bench

    result = run_report_bench(
        args.dossiers, args.runs, args.month, args.live_seconds, args.live_rate
    )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
