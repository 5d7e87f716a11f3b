"""``sasdesk bench appointments --json`` runs end to end (small): every appointment an
editor posts reaches the desk as an event, the bare HTTPS baseline is measured in the
same run, so is every RS-SAS-RDV the platform publishes through the Hub Santé beside the
broker's round trip alone, and out-of-bounds sizes are refused before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "appointments", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_bench_appointments_measures_the_endpoint_beside_bare_https() -> None:
    out = bench("--paced", "10", "--saturated", "20", "--concurrency", "4", "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    hub, bare = figures["fhir_endpoint"], figures["baseline_bare_https"]
    assert hub["paced_event_ms"]["samples"] == 10  # each one seen on the desk
    assert hub["saturated_event_ms"]["samples"] == 20
    assert bare["paced_answer_ms"]["samples"] == 10 and "paced_event_ms" not in bare
    assert 0 < hub["paced_answer_ms"]["p50"] <= hub["paced_answer_ms"]["p99"]
    assert hub["saturated_per_s"] > 0 and bare["saturated_per_s"] > 0
    assert hub["server_cpu_ms_per_appointment"] > 0
    # The bare server's CPU for 20 requests may be under one clock tick (10 ms): no ratio.
    assert "ratio_server_cpu" in figures
    # The national platform's half, through the Hub Santé (RabbitMQ is a test peer).
    hs = figures["hub_sante"]
    assert hs["hub"]["paced_event_ms"]["samples"] == 10
    assert hs["hub"]["paced_ack_ms"]["samples"] == 10
    assert hs["hub"]["saturated_event_ms"]["samples"] == 20
    assert hs["baseline_broker_round_trip"]["paced_round_trip_ms"]["samples"] == 10
    assert hs["hub"]["server_cpu_ms_per_appointment"] > 0
    assert hs["ratio_saturated_per_s"] is not None


def test_bench_appointments_refuses_sizes_out_of_bounds() -> None:
    out = bench("--paced", "1", "--json")
    assert out.returncode == 2 and "rendez-vous" in out.stderr and not out.stdout
