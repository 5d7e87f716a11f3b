"""``sasdesk hub [check] [--config FILE]``: the hub alone, for a shared deployment or tests.

Settings come from the configuration file (``--config``, else $SASDESK_CONFIG, else
/etc/sasdesk/hub.toml when it exists); each flag given overrides its value.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from app.cli import add_db_option
from app.config.settings import HubSettings
from app.config.tomlfile import FileError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "hub",
        help="démarre le hub seul (serveur websocket) ; « hub check » vérifie sa configuration",
        description="Démarre le hub : règles, base de données, diffusion des événements aux "
        "postes. Réglages : le fichier de configuration (--config, sinon "
        "/etc/sasdesk/hub.toml s'il existe) ; chaque option donnée l'emporte sur le fichier. "
        "« sasdesk hub check » vérifie la configuration sans démarrer.",
    )
    parser.add_argument(
        "action", nargs="?", choices=("check",), help="check : vérifie sans démarrer"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="fichier de configuration (défaut : /etc/sasdesk/hub.toml s'il existe)",
    )
    add_db_option(parser)
    parser.add_argument("--host", default=None, help="adresse d'écoute (défaut 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port d'écoute (défaut 8765)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="charge le territoire et les comptes de démonstration si la base est vide",
    )
    parser.add_argument(
        "--recordings",
        type=Path,
        default=None,
        metavar="DOSSIER",
        help="magasin des enregistrements d'appels (défaut : à côté de la base SQLite ; "
        "les hubs d'une même base PostgreSQL partagent le même dossier)",
    )
    tls = parser.add_argument_group("chiffrement (wss://)")
    tls.add_argument(
        "--tls-cert",
        type=Path,
        metavar="FICHIER",
        help="certificat PEM du hub (avec sa chaîne) ; remplace celui de la configuration",
    )
    tls.add_argument("--tls-key", type=Path, metavar="FICHIER", help="clé privée PEM du hub")
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="accepte de servir en clair (ws://, sans TLS) sur une adresse autre que "
        "127.0.0.1 : mots de passe et dossiers circulent en clair sur le réseau",
    )
    parser.add_argument("--json", action="store_true", help="check : résultat en JSON")
    parser.set_defaults(run=run)


def apply_flags(settings: HubSettings, args: argparse.Namespace) -> HubSettings:
    """Command-line values override the configuration, one field at a time (commands
    without some of the hub's flags, e.g. backup, keep the file's values for them)."""
    from app.resources import default_db_url

    tls = settings.tls
    if getattr(args, "tls_cert", None) is not None:
        tls = dataclasses.replace(tls, cert=args.tls_cert)
    if getattr(args, "tls_key", None) is not None:
        tls = dataclasses.replace(tls, key=args.tls_key)
    if getattr(args, "insecure", False):
        tls = dataclasses.replace(tls, insecure=True)
    port = getattr(args, "port", None)
    return dataclasses.replace(
        settings,
        db_url=args.db or settings.db_url or default_db_url(),
        host=getattr(args, "host", None) or settings.host,
        port=port if port is not None else settings.port,
        demo=getattr(args, "demo", False) or settings.demo,
        tls=tls,
        recordings_store=getattr(args, "recordings", None) or settings.recordings_store,
    )


def settings_of(args: argparse.Namespace) -> HubSettings:
    """The file's settings (FileError if it is wrong) with the flags given over them."""
    from app.cli.sections import load_hub_config
    from app.config.hubfile import default_path

    path = args.config or default_path()
    return apply_flags(load_hub_config(path) if path is not None else HubSettings(), args)


def run(args: argparse.Namespace) -> int:
    import time

    entered = time.monotonic()  # the interpreter and the command line are loaded
    from sqlalchemy.exc import OperationalError

    from app.config.hubfile import describe
    from app.db.migrate import SchemaTooNew

    try:
        settings = settings_of(args)
    except FileError as exc:
        print(
            f"sasdesk hub : configuration refusée, le hub ne démarre pas :\n{describe(exc)}",
            file=sys.stderr,
        )
        return 2
    if args.action == "check":
        from app.cli.sections import SECTIONS
        from app.config.check import check, report

        results = check(settings, SECTIONS)
        print(report(results, as_json=args.json))
        return 0 if all(r.ok for r in results) else 1

    from app.demo.seed import Demo
    from app.hub.tls import TlsConfigError, database_tls_hint
    from app.room import Hub

    demo = Demo() if settings.demo else None
    hub = Hub(settings.db_url, settings.host, settings.port, demo=demo, settings=settings)
    hub.marks = {"command_line_loaded": entered, **hub.marks}
    try:
        asyncio.run(hub.serve_forever())
    except KeyboardInterrupt:
        pass
    except TlsConfigError as exc:
        print(f"sasdesk hub : {exc}", file=sys.stderr)
        return 2
    except SchemaTooNew as exc:
        print(f"sasdesk hub : {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        where = hub.engine.url.render_as_string(hide_password=True)
        hint = database_tls_hint(str(exc.orig or exc))
        if hint:
            reason = f"{hint} ({reason})"
        print(f"sasdesk hub : base de données injoignable ({where}) : {reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"sasdesk hub : impossible d'écouter sur {settings.host}:{settings.port} : {exc}",
            file=sys.stderr,
        )
        return 1
    return 0
