"""``sasdesk bench psc-login``: Pro Santé Connect login time through a hub against the PSC
double, beside a same-run baseline of password logins (JSON)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import psc_login

    parser = sub.add_parser(
        "psc-login",
        help="durée d'une connexion Pro Santé Connect, comparée au mot de passe (JSON)",
        description=psc_login.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    psc_login.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.psc_login import run_psc_login_bench

    try:
        result = run_psc_login_bench(logins=args.logins, interval=args.interval)
    except (ValueError, RuntimeError) as exc:
        print(f"sasdesk bench psc-login : {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        pw, psc = result["password_login_ms"], result["psc_login_ms"]
        print(f"mot de passe : p50 {pw['p50']} ms, p95 {pw['p95']} ms")
        print(
            f"Pro Santé Connect (intervalle {result['psc_interval_s']} s) : p50 {psc['p50']} ms, "
            f"p95 {psc['p95']} ms (×{result['ratio_p50']} / ×{result['ratio_p95']})"
        )
    return 0
