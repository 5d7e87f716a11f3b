"""``sasdesk backup --out FILE`` and ``sasdesk restore FILE``: the database and the
recordings of the hub's configuration (or ``--db``), checked end to end."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli import add_db_option
from app.config.tomlfile import FileError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="configuration du hub (défaut : /etc/sasdesk/hub.toml s'il existe) : base et "
        "dossier des enregistrements",
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="résultat en JSON (taille, durée)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="sauvegarde la base et les enregistrements dans un fichier",
        description="Sauvegarde à chaud (le hub peut tourner) : la base (SQLite par son API "
        "de sauvegarde, PostgreSQL par pg_dump), les enregistrements du dossier configuré, un "
        "manifeste avec l'empreinte SHA-256 de chaque élément.",
    )
    backup.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FICHIER",
        help="fichier de sauvegarde à écrire (.tar)",
    )
    _common(backup)
    backup.set_defaults(run=run_backup)
    restore = sub.add_parser(
        "restore",
        help="restaure une sauvegarde (hub arrêté)",
        description="Vérifie la sauvegarde (empreintes, schéma) puis restaure la base et les "
        "enregistrements. Refuse une sauvegarde abîmée ou faite par une version plus récente.",
    )
    restore.add_argument("file", type=Path, metavar="FICHIER", help="fichier de sauvegarde")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="écrase la base SQLite existante (arrêtez le hub avant)",
    )
    _common(restore)
    restore.set_defaults(run=run_restore)


def _say(args: argparse.Namespace, result: dict[str, object], text: str) -> None:
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else text)


def run_backup(args: argparse.Namespace) -> int:
    from app.backup.archive import make_backup
    from app.backup.manifest import BackupError
    from app.cli.hub import settings_of

    try:
        result = make_backup(settings_of(args), args.out)
    except (BackupError, FileError) as exc:
        print(f"sasdesk backup : {exc}", file=sys.stderr)
        return 1
    _say(
        args,
        result,
        f"sauvegarde écrite : {result['file']} ({result['bytes']} octets, "
        f"{result['seconds']} s, schéma {result['schema_revision']}, "
        f"{result['recordings']} enregistrement(s)) ; SHA-256 {result['sha256']}",
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from app.backup.archive import restore_backup
    from app.backup.manifest import BackupError
    from app.cli.hub import settings_of

    try:
        result = restore_backup(args.file, settings_of(args), replace=args.replace)
    except (BackupError, FileError) as exc:
        print(
            f"sasdesk restore : restauration refusée, rien n'a été modifié : {exc}", file=sys.stderr
        )
        return 1
    _say(
        args,
        result,
        f"sauvegarde du {result['created']} restaurée (schéma "
        f"{result['schema_revision']}, {result['recordings_restored']} enregistrement(s)) "
        f"en {result['seconds']} s ; le hub mettra le schéma à jour à son démarrage",
    )
    return 0
