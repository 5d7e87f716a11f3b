"""Options several commands share; the subcommand modules import them from here."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TypeVar

from app.resources import default_db_url

T = TypeVar("T")


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


def options_of(kind: type[T], args: argparse.Namespace) -> T:
    """The bench's options dataclass ``kind`` filled from the parsed arguments of the
    same names (the command line parses, the bench in app.bench runs)."""
    return kind(**{f.name: getattr(args, f.name) for f in dataclasses.fields(kind)})  # type: ignore[arg-type]
