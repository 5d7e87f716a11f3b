"""``sasdesk`` (embedded default) and ``sasdesk desk --hub URL``."""

from __future__ import annotations

import argparse

from app.cli import db_url
from app.db.engine import data_dir


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "desk",
        help="démarre un poste relié à un hub existant",
        description="Démarre un poste (interface Qt) relié à un hub.",
    )
    parser.add_argument(
        "--hub",
        required=True,
        metavar="ws://HÔTE:PORT",
        help="adresse du hub, par exemple ws://127.0.0.1:8765",
    )
    parser.add_argument(
        "--training", action="store_true", help="utilise la ligne d'entraînement (appels simulés)"
    )
    parser.add_argument(
        "--ring-every",
        type=float,
        default=45.0,
        metavar="SECONDES",
        help="ligne d'entraînement : un appel toutes les N secondes (0 : à la demande, Ctrl+T)",
    )
    parser.set_defaults(run=run)


def _training_line(every: float):  # type: ignore[no-untyped-def]
    from telephony.training import TrainingLine

    return TrainingLine(interval=every)


def run(args: argparse.Namespace) -> int:
    from ui.launch import run as run_ui

    line = _training_line(args.ring_every) if args.training else None
    return run_ui(args.hub, line, data_dir() / "outbox.json")


def run_embedded(args: argparse.Namespace) -> int:
    """The embedded default: hub in-process on SQLite, demo territory, training line."""
    from app.hub.embedded import EmbeddedHub
    from ui.launch import run as run_ui

    hub = EmbeddedHub(db_url(args), demo=True)
    url = hub.start()
    try:
        return run_ui(url, _training_line(45.0), data_dir() / "outbox.json")
    finally:
        hub.stop()
