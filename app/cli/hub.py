"""``sasdesk hub``: the hub alone, for a shared deployment or tests."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from app.cli import add_db_option, db_url
from app.config.settings import HubSettings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "hub",
        help="démarre le hub seul (serveur websocket)",
        description="Démarre le hub : règles, base de données, diffusion "
        "des événements aux postes.",
    )
    add_db_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port d'écoute (défaut 8765)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="charge le territoire et les comptes de démonstration si la base est vide",
    )
    tls = parser.add_argument_group("chiffrement (wss://)")
    tls.add_argument("--tls-cert", type=Path, metavar="FICHIER", help="certificat PEM du hub "
                     "(avec sa chaîne) ; remplace celui de la configuration")
    tls.add_argument("--tls-key", type=Path, metavar="FICHIER", help="clé privée PEM du hub")
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="accepte de servir en clair (ws://, sans TLS) sur une adresse autre que "
        "127.0.0.1 : mots de passe et dossiers circulent en clair sur le réseau",
    )
    parser.set_defaults(run=run)


def apply_flags(settings: HubSettings, args: argparse.Namespace) -> HubSettings:
    """Command-line values override the configuration, one field at a time."""
    tls = settings.tls
    if args.tls_cert is not None:
        tls = dataclasses.replace(tls, cert=args.tls_cert)
    if args.tls_key is not None:
        tls = dataclasses.replace(tls, key=args.tls_key)
    if args.insecure:
        tls = dataclasses.replace(tls, insecure=True)
    return dataclasses.replace(
        settings, db_url=db_url(args), host=args.host, port=args.port, demo=args.demo, tls=tls
    )


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from app.hub.server import Hub
    from app.hub.tls import TlsConfigError, database_tls_hint

    settings = apply_flags(HubSettings(), args)
    hub = Hub(settings.db_url, settings.host, settings.port, demo=settings.demo,
              settings=settings)
    try:
        asyncio.run(hub.serve_forever())
    except KeyboardInterrupt:
        pass
    except TlsConfigError as exc:
        print(f"sasdesk hub : {exc}", file=sys.stderr)
        return 2
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
            f"sasdesk hub : impossible d'écouter sur {args.host}:{args.port} : {exc}",
            file=sys.stderr,
        )
        return 1
    return 0
