"""``sasdesk bench appointments``: an editor's appointment through the hub's FHIR endpoint
(mutual TLS) to the desk's event, beside a bare HTTPS server, and the national platform's
RS-SAS-RDV through the Hub Santé, beside the broker's round trip alone (JSON)."""

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
    from app.bench.appointments_hubsante import run_hubsante_half

    try:
        result = run_appointments_bench(
            paced=args.paced, saturated=args.saturated, concurrency=args.concurrency
        )
        # The national platform's RS-SAS-RDV, through the Hub Santé.
        result["hub_sante"] = (
            {"skipped": "--sans-hubsante"}
            if args.sans_hubsante
            else run_hubsante_half(paced=args.paced, saturated=args.saturated)
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
        hs = result["hub_sante"]
        if "skipped" in hs:
            print(f"Hub Santé : non mesuré ({hs['skipped']})")
        else:
            via, alone = hs["hub"], hs["baseline_broker_round_trip"]
            print(f"Hub Santé : événement sur le poste p50 {via['paced_event_ms']['p50']} ms, "
                  f"{via['saturated_per_s']} RDV/s ; courtier seul : aller-retour p50 "
                  f"{alone['paced_round_trip_ms']['p50']} ms, "
                  f"{alone['saturated_per_s']} messages/s")  # fmt: skip
    return 0
