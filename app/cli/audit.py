"""``sasdesk audit``: who read a dossier, what a user read, what was read since a date;
``--logins``: the sessions and how they were proven; ``--decisions``: who decided, with
their national identifier and authentication."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from app.audit.protocol import ReadRow
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
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--logins",
        action="store_true",
        help="les connexions : identifiant national, preuve (mot de passe, Pro Santé "
        "Connect, secours et sa raison)",
    )
    shown.add_argument(
        "--decisions",
        action="store_true",
        help="les décisions médicales : médecin, identifiant national, preuve",
    )
    parser.set_defaults(run=run)


COLUMNS = ("Date (Paris)", "Utilisateur", "Rôle", "Poste", "Dossier", "Lecture", "Résultat")


def table_rows(reads: list[ReadRow]) -> list[tuple[str, ...]]:
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
    if args.logins or args.decisions:
        return _identity(args, make_sessionmaker(engine), query)
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
    _print_table([COLUMNS, *table_rows(reads)])
    older = f" ; d'autres, plus anciennes : --limit {args.limit * 2}" if more else ""
    print(f"\n{len(reads)} lecture(s){older}")
    return 0


def _print_table(lines: list[tuple[str, ...]]) -> None:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _paris(at: str) -> str:
    return f"{datetime.fromisoformat(at).astimezone(PARIS):%d/%m/%Y %H:%M:%S}" if at else ""


LOGIN_COLUMNS = ("Date (Paris)", "Utilisateur", "Rôle", "Poste", "Identifiant national", "Preuve")
DECISION_COLUMNS = ("Date (Paris)", "Dossier", "Médecin", "Identifiant national", "Preuve",
                    "Décision")  # fmt: skip


def _identity(args: argparse.Namespace, sessions: Any, query: Any) -> int:
    """The sessions (--logins) or the decisions (--decisions) with who proved what."""
    from app.audit.identity import find_decisions, find_logins

    with sessions() as s:
        rows, more = (find_logins if args.logins else find_decisions)(s, query)
    sessions.kw["bind"].dispose()
    key = "logins" if args.logins else "decisions"
    if args.json:
        print(json.dumps({key: rows, "more": more}, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("Aucune connexion ne correspond." if args.logins else "Aucune décision.")
        return 0
    if args.logins:
        table = [LOGIN_COLUMNS] + [
            (_paris(r["at"]), r["username"], r["role"], r["desk"], r["national_id"] or "-",
             r["auth_label"] + (f" : {r['fallback_reason']}" if r["fallback_reason"] else ""))
            for r in rows
        ]  # fmt: skip
    else:
        table = [DECISION_COLUMNS] + [
            (_paris(r["at"]), r["dossier_number"], r["username"], r["national_id"] or "-",
             r["auth_label"], f"{r['decision']} {r['orientation']}".strip())
            for r in rows
        ]  # fmt: skip
    _print_table(table)
    older = f" ; d'autres, plus anciennes : --limit {args.limit * 2}" if more else ""
    print(f"\n{len(rows)} {'connexion(s)' if args.logins else 'décision(s)'}{older}")
    return 0
