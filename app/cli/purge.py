"""``sasdesk purge``: delete what is past its retention period, journalled; holds."""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.cli import add_db_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.retention.plan import PurgePlan
    from app.retention.purge import PurgeReport

PARIS = ZoneInfo("Europe/Paris")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "purge",
        help="supprime ce qui a dépassé sa durée de conservation (journalisé)",
        description="Supprime les dossiers, appels, enregistrements et traces d'accès "
        "dont la durée de conservation est échue (docs/security.md), et le journalise. "
        "Commencez par --dry-run : la liste sert au visa des archives.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="configuration du hub (défaut : /etc/sasdesk/hub.toml s'il existe) : base, "
        "magasin des enregistrements, durées de conservation ([conservation])",
    )
    add_db_option(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="liste ce qui serait supprimé, sans rien supprimer"
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON")
    parser.add_argument(
        "--recordings-store",
        default=None,
        metavar="DOSSIER",
        help="magasin des enregistrements du hub (défaut : celui de la base)",
    )
    holds = parser.add_argument_group("dossiers à conserver (recours, contentieux)")
    holds.add_argument("--hold", metavar="DOSSIER", help="suspend la purge de ce dossier")
    holds.add_argument("--reason", help="motif de la suspension (obligatoire avec --hold)")
    holds.add_argument("--release", metavar="DOSSIER", help="lève la suspension")
    holds.add_argument("--holds", action="store_true", help="liste les suspensions")
    parser.set_defaults(run=run)


def actor() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _day(moment: Any) -> str:
    return f"{moment.astimezone(PARIS):%d/%m/%Y}"


def plan_json(plan: Any) -> dict[str, Any]:
    cut = plan.cutoffs()
    return {
        "dry_run": True,
        "periods": {name: getattr(plan.periods, name).describe() for name in cut},
        "cutoffs": {name: value.isoformat() for name, value in cut.items()},
        "dossiers": [
            {"id": d.id, "number": d.number, "closed_at": d.closed_at.isoformat()}
            for d in plan.dossiers
        ],
        "calls": [
            {"id": c.id, "call_ref": c.call_ref, "offered_at": c.offered_at.isoformat()}
            for c in plan.calls
        ],
        "recordings": [
            {
                "id": r.id,
                "dossier_id": r.dossier_id,
                "bytes": r.size,
                "started_at": r.started_at.isoformat(),
            }
            for r in plan.recordings
        ],
        "audit_rows": plan.audit_rows,
        "held": plan.held,
        "minors_kept": plan.minors_kept,
    }


def plan_text(plan: Any) -> str:
    cut = plan.cutoffs()
    p = plan.periods
    lines = [
        f"Durées de conservation : dossiers {p.dossiers.describe()} ; enregistrements "
        f"{p.recordings.describe()} ; traces d'accès {p.audit.describe()}.",
        f"Dossiers clôturés avant le {_day(cut['dossiers'])} : {len(plan.dossiers)}",
        *(f"  {d.number}  clôturé le {_day(d.closed_at)}" for d in plan.dossiers),
        f"Appels sans dossier reçus avant le {_day(cut['dossiers'])} : {len(plan.calls)}",
        f"Enregistrements : {len(plan.recordings)} "
        f"({sum(r.size for r in plan.recordings) / 1e6:.1f} Mo)",
        f"Traces d'accès antérieures au {_day(cut['audit'])} : {plan.audit_rows}",
    ]
    if plan.held:
        lines.append(f"Conservés (suspension en cours) : {', '.join(plan.held)}")
    if plan.minors_kept:
        lines.append(f"Conservés jusqu'aux 28 ans du patient : {', '.join(plan.minors_kept)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from app.cli.hub import settings_of
    from app.config.hubfile import describe
    from app.config.tomlfile import FileError
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.recordings.store import RecordingStore, default_store
    from app.retention import periods
    from app.retention.plan import plan_purge
    from app.retention.purge import purge

    try:
        settings = settings_of(args)
    except FileError as exc:
        print(f"sasdesk purge : configuration refusée :\n{describe(exc)}", file=sys.stderr)
        return 2
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    try:
        if args.hold or args.release or args.holds:
            return _holds(args, sessions)
        chosen = periods(settings.retention)
        problems = chosen.below_minimum()
        if problems:
            print("sasdesk purge refusée : " + " ; ".join(problems), file=sys.stderr)
            return 2
        from app.db.types import utcnow

        with sessions() as s:
            plan = plan_purge(s, chosen, utcnow())
        if args.dry_run:
            if args.json:
                print(json.dumps(plan_json(plan), ensure_ascii=False, indent=1))
            else:
                print("Simulation : rien n'est supprimé.\n" + plan_text(plan))
            return 0
        if plan.empty:
            print("Rien à supprimer.\n" + plan_text(plan))
            return 0
        root = (
            Path(args.recordings_store)
            if args.recordings_store
            else (settings.recordings_store or default_store(settings.db_url))
        )
        report = purge(sessions, plan, RecordingStore(root), actor())
    finally:
        engine.dispose()
    return _print_report(args, plan, report)


def _holds(args: argparse.Namespace, sessions: sessionmaker[Session]) -> int:
    """``--hold``, ``--release``, ``--holds``: a legal hold placed, lifted or listed."""
    from app.retention.holds import HoldError, list_holds, place_hold, release_hold

    try:
        if args.hold:
            print(place_hold(sessions, args.hold, args.reason or "", actor()))
        elif args.release:
            print(release_hold(sessions, args.release))
        else:
            print(list_holds(sessions))
    except HoldError as exc:
        print(f"sasdesk purge : {exc}", file=sys.stderr)
        return 1
    return 0


def _print_report(args: argparse.Namespace, plan: PurgePlan, report: PurgeReport) -> int:
    """What was deleted (JSON or text); 1 if recording files could not be deleted."""
    summary = {
        "dossiers": report.dossiers,
        "calls": report.calls,
        "recordings": report.recordings,
        "audit_rows": report.audit_rows,
        "files_left": report.files_left,
    }
    if args.json:
        print(json.dumps({"dry_run": False, **summary}, ensure_ascii=False, indent=1))
    else:
        print(plan_text(plan))
        print(
            f"Supprimés : {report.dossiers} dossier(s), {report.calls} appel(s), "
            f"{report.recordings} enregistrement(s), {report.audit_rows} trace(s) d'accès ; "
            "journalisé (purge_journal)."
        )
    if report.files_left:
        print(
            f"Fichiers d'enregistrement non supprimés : {', '.join(report.files_left)}",
            file=sys.stderr,
        )
        return 1
    return 0
