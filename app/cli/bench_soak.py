"""``sasdesk bench soak``: calls through Kamailio to desks and hubs killed -9 at random."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import soak

    parser = sub.add_parser(
        "soak",
        help="appels SIPp, postes et hubs tués au hasard (kill -9) : rien ne doit se perdre",
        description=soak.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=1000, help="appels SIPp (défaut 1000)")
    parser.add_argument("--desks", type=int, default=10, help="postes N1 SIP (défaut 10)")
    parser.add_argument("--rate", type=float, default=4.0, help="appels par seconde (défaut 4)")
    parser.add_argument(
        "--kills",
        type=int,
        default=None,
        help="kill -9 pendant l'essai (défaut : un pour 50 appels, au moins 2)",
    )
    parser.add_argument("--seed", type=int, default=1, help="graine du calendrier des pannes")
    parser.add_argument(
        "--db", default=None, metavar="URL", help="base PostgreSQL (défaut : SQLite temporaire)"
    )
    parser.add_argument(
        "--pg-temp", action="store_true", help="démarre un PostgreSQL jetable pour l'essai"
    )
    parser.add_argument("--hubs", type=int, default=1, help="hubs sur la même base (PostgreSQL)")
    parser.add_argument("--talk-ms", type=int, default=1500, help="durée de chaque appel, ms")
    parser.add_argument("--json", action="store_true", help="sortie JSON sur une ligne")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from app.bench.soak import SoakConfig, run_soak

    # The bench's own clients reconnect through every kill: that is the point, not news.
    logging.getLogger("app.client.hub_client").setLevel(logging.WARNING)

    if args.calls < 1 or args.desks < 1 or args.rate <= 0 or args.hubs < 1:
        print("calls, desks, rate et hubs doivent être positifs", file=sys.stderr)
        return 2
    try:
        result = run_soak(
            SoakConfig(
                calls=args.calls,
                desks=args.desks,
                rate=args.rate,
                kills=args.kills,
                seed=args.seed,
                db_url=args.db,
                pg_temp=args.pg_temp,
                hubs=args.hubs,
                talk_ms=args.talk_ms,
            )
        )
    except (ValueError, RuntimeError) as exc:
        print(f"sasdesk bench soak : {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True, indent=None if args.json else 2))
    losses = (
        "acknowledged_intents_missing",
        "dossiers_lost",
        "recordings_lost",
        "ranges_overbooked",
        "event_seq_duplicates_delivered",
    )
    return 1 if any(result[k] for k in losses) else 0
