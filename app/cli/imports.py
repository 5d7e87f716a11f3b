"""``sasdesk import effecteurs FILE.csv``, ``sasdesk import slots FILE`` and
``sasdesk import ror FILE`` (the CPTS' intervention zones) and ``sasdesk import rpps FILE``
(the national extraction, .zip or .txt)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from app.cli import add_db_option, db_url
from app.directory.imports.rpps_codes import DEFAULT_PROFESSIONS, PROFESSION_NAMES

_DEFAULT_NAMES = ", ".join(f"{c} {PROFESSION_NAMES[c]}" for c in sorted(DEFAULT_PROFESSIONS))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("import", help="importer l'annuaire des effecteurs ou des créneaux")
    what = parser.add_subparsers(dest="what", metavar="QUOI", required=True)
    eff = what.add_parser(
        "effecteurs", help="annuaire des effecteurs (CSV, voir docs/directory.md)"
    )
    eff.add_argument("file", type=Path, metavar="FICHIER.csv")
    members = what.add_parser(
        "membres", help="qui travaille pour quelle CPTS (identifiant;structure)"
    )
    members.add_argument("file", type=Path, metavar="FICHIER.csv")
    slots = what.add_parser(
        "slots", help="créneaux : .csv, .ics (iCalendar) ou .json (Bundle FHIR R4 du SAS)"
    )
    slots.add_argument("file", type=Path, metavar="FICHIER")
    slots.add_argument("--rpps", help="médecin de l'agenda .ics (11 chiffres)")
    slots.add_argument(
        "--horizon-weeks",
        type=int,
        default=4,
        metavar="N",
        help="agenda .ics : occurrences importées sur N semaines (4 par défaut ; la "
        "recherche montre 72 h)",
    )
    ror = what.add_parser(
        "ror",
        help="CPTS et zones d'intervention du ROR : Bundle FHIR (.json) ou export NDJSON",
    )
    ror.add_argument("file", type=Path, metavar="FICHIER")
    rpps = what.add_parser(
        "rpps",
        help="annuaire national : extraction RPPS de l'ANS (PS_LibreAcces_<date>.zip ou "
        "PS_LibreAcces_Personne_activite_<date>.txt)",
    )
    rpps.add_argument("file", type=Path, metavar="FICHIER")
    rpps.add_argument(
        "--professions",
        default=",".join(sorted(DEFAULT_PROFESSIONS)),
        metavar="CODES",
        help="codes profession importés, séparés par des virgules, ou « toutes » "
        f"(défaut : {_DEFAULT_NAMES})",
    )
    rpps.add_argument(
        "--no-progress", action="store_true", help="pas de barre de progression (stderr)"
    )
    for p in (eff, slots, members, ror, rpps):
        add_db_option(p)
        p.add_argument(
            "--strict", action="store_true", help="une seule ligne rejetée annule tout l'import"
        )
        p.add_argument("--json", action="store_true", help="rapport en JSON")
        p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.directory.imports.effecteurs import import_effecteurs
    from app.directory.imports.slots import import_slots

    if not args.file.is_file():
        print(f"fichier introuvable : {args.file}", file=sys.stderr)
        return 2
    engine = make_engine(db_url(args))
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    if args.what == "effecteurs":
        report = import_effecteurs(sessions, args.file, strict=args.strict)
    elif args.what == "rpps":
        from app.directory.imports.rpps import import_rpps

        chosen = [c.strip() for c in args.professions.split(",") if c.strip()]
        professions = None if chosen == ["toutes"] else frozenset(chosen)
        bar = None if args.no_progress or args.json else ProgressBar(sys.stderr)
        report = import_rpps(
            sessions,
            args.file,
            professions=professions,
            strict=args.strict,
            progress=bar.update if bar else None,
        )
        if bar:
            bar.close()
    elif args.what == "membres":
        from app.directory.imports.members import import_members

        report = import_members(sessions, args.file, strict=args.strict)
    elif args.what == "ror":
        from app.directory.imports.ror import import_ror

        report = import_ror(sessions, args.file, strict=args.strict)
    else:
        if not 1 <= args.horizon_weeks <= 52:
            print("--horizon-weeks : de 1 à 52 semaines", file=sys.stderr)
            return 2
        report = import_slots(
            sessions,
            args.file,
            rpps=args.rpps,
            strict=args.strict,
            horizon=timedelta(weeks=args.horizon_weeks),
        )
    engine.dispose()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"{report.kind} — {args.file}")
        print(report.summary())
        if report.encoding:
            print(f"  encodage : {report.encoding}")
        for where, why in report.rejected:
            print(f"  rejetée  {where} : {why}")
        for where, why in report.warnings:
            print(f"  attention {where} : {why}")
        for where, why in report.skipped:
            print(f"  non importé {where} : {why}")
    return 0 if report.committed else 1


class ProgressBar:
    """A one-line bar on a terminal (or a line per 10 % elsewhere)."""

    WIDTH = 40

    def __init__(self, out: TextIO):
        self.out = out
        self.tty = out.isatty()
        self.shown = -1

    def update(self, done: int, total: int) -> None:
        share = min(1.0, done / total) if total else 1.0
        percent = int(share * 100)
        if percent == self.shown or (not self.tty and percent // 10 == self.shown // 10):
            return
        self.shown = percent
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        end = "\r" if self.tty else "\n"
        self.out.write(f"[{bar}] {percent:3d} %{end}")
        self.out.flush()

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
        self.out.flush()
