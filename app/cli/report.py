"""``sasdesk report``: the month's activity report (CSV, XLSX or PDF), from the events."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import add_db_option, db_url

FORMATS = ("csv", "xlsx", "pdf")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="rapport d'activité mensuel (CSV, XLSX, PDF)",
        description="Tableau OSNP du mois (une ligne par jour ouvré, une colonne par territoire, "
        "sous-totaux hebdomadaires, total), tableau par commune, décroché, "
        "dossiers, recherches de RDV ; le PDF ajoute les graphiques. Tout est "
        "compté à partir du journal des événements du hub.",
    )
    add_db_option(parser)
    parser.add_argument("--month", required=True, metavar="AAAA-MM", help="mois (ex. 2023-06)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="format (défaut : d'après l'extension de --out)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FICHIER")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.stats.calendar import Period
    from app.stats.report import build_report

    fmt = args.format or args.out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        print(f"sasdesk report : format inconnu « {fmt} » (csv, xlsx ou pdf)", file=sys.stderr)
        return 2
    try:
        period = Period.parse_month(args.month)
    except ValueError as exc:
        print(f"sasdesk report : {exc}", file=sys.stderr)
        return 2
    engine = make_engine(db_url(args))
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as s:
            report = build_report(s, period)
    finally:
        engine.dispose()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        from app.stats.writers import write_csv

        write_csv(report, args.out)
    elif fmt == "xlsx":
        from app.stats.writers import write_xlsx

        write_xlsx(report, args.out)
    else:
        from app.stats.pdf import write_pdf

        write_pdf(report, args.out)
    total = report.monthly.total.values
    print(
        f"{args.out} : {period.label}, {total['dossiers_osnp']} dossiers OSNP, "
        f"{report.calls.offered} appels présentés, {report.dossiers.total} dossiers"
    )
    return 0
