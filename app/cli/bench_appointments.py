"""``sasdesk bench appointments``: an editor's appointment through the hub's FHIR endpoint
(mutual TLS) to the desk's event, beside a bare HTTPS server (JSON)."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.bench import appointments

    parser = sub.add_parser(
        "appointments",
        help="rendez-vous des éditeurs : débit, délais jusqu'au poste, face à HTTPS nu (JSON)",
        description=appointments.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    appointments.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.appointments import run_appointments_bench

    try:
        result = run_appointments_bench(
            paced=args.paced, saturated=args.saturated, concurrency=args.concurrency
        )
    except (ValueError, RuntimeError) as exc:
        print(f"sasdesk bench appointments : {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        hub, bare = result["fhir_endpoint"], result["baseline_bare_https"]
        event = hub["paced_event_ms"]
        print(f"point d'accès FHIR : réponse p50 {hub['paced_answer_ms']['p50']} ms, "
              f"événement sur le poste p50 {event['p50']} ms, p99 {event['p99']} ms ; "
              f"{hub['saturated_per_s']} RDV/s")  # fmt: skip
        print(f"HTTPS nu : réponse p50 {bare['paced_answer_ms']['p50']} ms ; "
              f"{bare['saturated_per_s']} RDV/s")  # fmt: skip
    return 0
