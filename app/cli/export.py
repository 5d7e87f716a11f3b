"""``sasdesk export dossier N --format rs-eda|fhir-appointment``: a dossier in the
national formats (docs/hubsante.md), printed or written to ``--out``; the read is
recorded in the audit like a desk's."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from app.cli import add_db_option, db_url


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("export", help="exporter un dossier (RS-EDA, RDV FHIR du SAS)")
    what = parser.add_subparsers(dest="what", metavar="QUOI", required=True)
    dossier = what.add_parser("dossier", help="un dossier, par son numéro ou son identifiant")
    dossier.add_argument("dossier", metavar="N", help="numéro (20261124-000012) ou identifiant")
    dossier.add_argument("--format", choices=("rs-eda", "fhir-appointment"), default="rs-eda",
                         help="rs-eda : message createCaseHealth du Hub Santé ; "
                         "fhir-appointment : le RDV au format du guide FHIR du SAS")  # fmt: skip
    dossier.add_argument(
        "--client-id",
        default=None,
        help="identifiant Hub Santé de la salle (défaut : fr.health.sasdesk)",
    )
    dossier.add_argument("--out", type=Path, help="fichier à écrire (défaut : la sortie)")
    add_db_option(dossier)
    dossier.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import or_, select

    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.db.models import Dossier
    from app.hub.protocol import IntentName
    from app.hub.read_audit import record_read
    from app.interop.export import DEFAULT_CLIENT_ID, ExportError, export

    engine = make_engine(db_url(args))
    try:
        upgrade(engine)
        with make_sessionmaker(engine).begin() as s:
            key = str(args.dossier)
            cond = Dossier.number == key
            if key.isdigit():
                cond = or_(cond, Dossier.id == int(key))
            d = s.scalar(select(Dossier).where(cond))
            if d is None:
                print(f"dossier {key} introuvable", file=sys.stderr)
                return 2
            operator = getpass.getuser()
            try:
                document = export(s, d, args.format, client_id=args.client_id or DEFAULT_CLIENT_ID,
                                  operator=operator)  # fmt: skip
            except ExportError as exc:
                print(str(exc), file=sys.stderr)
                return 1
            record_read(s, None, "sasdesk export", d.id, str(IntentName.DOSSIER_EXPORT),
                        detail=f"{args.format} (ligne de commande, {operator})")  # fmt: skip
    finally:
        engine.dispose()
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"dossier {d.number} exporté ({args.format}) : {args.out}")
    else:
        print(text)
    return 0
