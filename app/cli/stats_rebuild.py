"""``sasdesk stats rebuild``: fold the whole event log into the statistics fact tables
again (they are kept up to date by the hub; this is for a database whose events were
written without it, or after a change to how facts are folded)."""

from __future__ import annotations

import argparse
import json
import time

from app.cli import add_db_option, db_url


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "stats",
        help="statistiques : reconstruire les faits à partir du journal",
        description="Les tables de faits (appels, dossiers, recherches OSNP, réservations, "
        "RDV du rappel) sont tenues à jour par le hub à chaque événement. "
        "« rebuild » les vide et les recalcule à partir de tout le journal des "
        "événements, dans une seule transaction.",
    )
    add_db_option(parser)
    parser.add_argument("action", choices=("rebuild",))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.db.engine import make_engine
    from app.db.migrate import upgrade
    from app.stats.projection import rebuild

    engine = make_engine(db_url(args))
    try:
        upgrade(engine)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            rows = rebuild(conn)
        print(
            json.dumps(
                {"rebuilt": rows, "seconds": round(time.perf_counter() - t0, 2)}, ensure_ascii=False
            )
        )
    finally:
        engine.dispose()
    return 0
