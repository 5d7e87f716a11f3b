"""``sasdesk bench login-flood``: a working desk's intents while sockets flood the hub
with wrong passwords, against a same-run baseline without the flood (JSON)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import login_flood

    parser = sub.add_parser(
        "login-flood",
        help="intentions d'un poste pendant un flot de faux mots de passe (JSON)",
        description=login_flood.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    login_flood.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.login_flood import run_login_flood_bench

    try:
        result = run_login_flood_bench(
            flooders=args.flooders,
            intents=args.intents,
            interval_ms=args.interval_ms,
            seconds=args.seconds,
            throttle=args.throttle == "on",
            db_url=args.db,
            hubs=args.hubs,
            pg_temp=args.pg_temp,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"sasdesk bench login-flood : {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        base, flood = result["baseline_ms"], result["flood_ms"]
        print(f"sans flot : p50 {base['p50']} ms, p99 {base['p99']} ms")
        print(
            f"{result['flooders']} sockets, {result['flood_attempts_per_second']} essais/s : "
            f"p50 {flood['p50']} ms, p99 {flood['p99']} ms "
            f"(×{result['ratio_p50']} / ×{result['ratio_p99']})"
        )
    return 0
