"""``sasdesk hub``: the hub alone, for a shared deployment or tests."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.cli import add_db_option, db_url


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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from app.hub.server import Hub

    hub = Hub(db_url(args), args.host, args.port, demo=args.demo)
    try:
        asyncio.run(hub.serve_forever())
    except KeyboardInterrupt:
        pass
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        where = hub.engine.url.render_as_string(hide_password=True)
        print(f"sasdesk hub : base de données injoignable ({where}) : {reason}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"sasdesk hub : impossible d'écouter sur {args.host}:{args.port} : {exc}",
            file=sys.stderr,
        )
        return 1
    return 0
