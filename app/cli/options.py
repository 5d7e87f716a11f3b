"""Options several commands share; the subcommand modules import them from here."""

from __future__ import annotations

import argparse

from app.db.engine import default_db_url


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="base de données (SQLAlchemy URL : sqlite:///… ou "
        "postgresql://…) ; défaut : le fichier SQLite embarqué",
    )


def db_url(args: argparse.Namespace) -> str:
    return args.db or default_db_url()
