"""``sasdesk audit``: who read a dossier, what a user read, what was read since a date."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.cli import add_db_option, db_url

PARIS = ZoneInfo("Europe/Paris")


def parse_instant(text: str) -> datetime:
    """``2026-11-24`` (midnight, Paris) or ``2026-11-24T08:30`` (Paris unless an offset)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=PARIS)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"date invalide : {text!r} (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "audit",
        help="journal des accès aux dossiers (qui a lu quoi, quand, d'où)",
        description="Affiche le journal des lectures de dossiers, les plus récentes "
        "d'abord. Les heures sont celles de Paris.",
    )
    add_db_option(parser)
    parser.add_argument("--dossier", metavar="N", help="identifiant ou numéro du dossier")
    parser.add_argument("--user", metavar="IDENTIFIANT", help="compte qui a lu")
    parser.add_argument("--since", type=parse_instant, metavar="DATE", help="depuis cette date")
    parser.add_argument("--until", type=parse_instant, metavar="DATE", help="avant cette date")
    parser.add_argument("--refused", action="store_true", help="seulement les refus")
    parser.add_argument("--limit", type=int, default=1000, help="nombre de lignes (défaut 1000)")
    parser.add_argument("--json", action="store_true", help="sortie JSON")
    parser.set_defaults(run=run)


COLUMNS = ("Date (Paris)", "Utilisateur", "Rôle", "Poste", "Dossier", "Lecture", "Résultat")


def table_rows(reads: list[dict[str, object]]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r in reads:
        at = datetime.fromisoformat(str(r["at"])).astimezone(PARIS)
        dossier = r["dossier_number"] or (f"n° {r['dossier_id']}" if r["dossier_id"] else "")
        result = "accordée" if r["granted"] else f"REFUSÉE ({r['detail']})"
        out.append(
            (
                f"{at:%d/%m/%Y %H:%M:%S}",
                str(r["username"]),
                str(r["role"]),
                str(r["desk"]),
                str(dossier),
                str(r["label"]),
                result,
            )
        )
    return out


def run(args: argparse.Namespace) -> int:
    from app.audit.query import AuditQuery, find_reads, read_view
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade

    if args.limit < 1:
        print("sasdesk audit : --limit doit être positif", file=sys.stderr)
        return 2
    engine = make_engine(db_url(args))
    upgrade(engine)
    query = AuditQuery(
        dossier=args.dossier,
        username=args.user,
        since=args.since,
        until=args.until,
        refused_only=args.refused,
        limit=args.limit,
    )
    with make_sessionmaker(engine)() as s:
        rows, more = find_reads(s, query)
        reads = [read_view(r) for r in rows]
    engine.dispose()
    if args.json:
        print(json.dumps({"reads": reads, "more": more}, ensure_ascii=False, indent=1))
        return 0
    if not reads:
        print("Aucune lecture ne correspond.")
        return 0
    lines = [COLUMNS, *table_rows(reads)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    older = f" ; d'autres, plus anciennes : --limit {args.limit * 2}" if more else ""
    print(f"\n{len(reads)} lecture(s){older}")
    return 0
