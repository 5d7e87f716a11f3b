"""``sasdesk bench sip``: SIPp callers through Kamailio to auto-answering desk lines
(app.bench.sip)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import sip

    parser = sub.add_parser(
        "sip",
        help="appels SIPp via Kamailio vers des postes en décroché automatique",
        description=sip.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--calls", type=int, default=300, help="nombre d'appels (défaut 300)")
    parser.add_argument("--rate", type=float, default=5.0, help="appels par seconde (défaut 5)")
    parser.add_argument("--desks", type=int, default=4, help="postes N1 (défaut 4)")
    parser.add_argument(
        "--talk-ms",
        type=int,
        default=300,
        help="durée de conversation de chaque appel, ms (défaut 300)",
    )
    parser.add_argument(
        "--answer-after",
        type=float,
        default=0.05,
        metavar="SECONDES",
        help="délai de décroché du premier poste ; +0,05 s par poste suivant",
    )
    parser.add_argument("--no-audio", action="store_true", help="SIPp n'envoie pas d'audio")
    parser.add_argument("--json", action="store_true", help="sortie JSON seule")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.sip import SipBenchError, SipOptions, run_sip_bench
    from app.cli.options import options_of

    if args.calls < 1 or args.desks < 1 or args.rate <= 0:
        print("calls, desks and rate must be positive", file=sys.stderr)
        return 2
    try:
        result = run_sip_bench(options_of(SipOptions, args))
    except SipBenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True, indent=None if args.json else 2))
    return 0 if result["failed"] == 0 and result["sipp_exit_code"] == 0 else 1


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="sasdesk bench")
    add_parser(_parser.add_subparsers(dest="bench", required=True))
    _args = _parser.parse_args()
    sys.exit(_args.run(_args))
