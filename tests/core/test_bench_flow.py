"""The flow benchmark runs end to end and every intent's event reaches another desk.

Timing is not asserted here (noisy machines): figures come from `sasdesk bench flow`.
"""

from __future__ import annotations

import json

from app.bench.flow import desk_roles, percentile
from app.cli import main


def test_desk_roles_shape_a_room() -> None:
    roles = desk_roles(20)
    assert len(roles) == 20
    assert {r.value for r in roles} == {"ARM_N1", "MRL", "OSNP", "MEDECIN_AMU", "SUPERVISEUR"}


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0


def test_bench_flow_command_prints_json(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        [
            "bench",
            "flow",
            "--dossiers",
            "12",
            "--desks",
            "6",
            "--rate",
            "10",
            "--paced-seconds",
            "1",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for phase in ("paced", "saturated"):
        assert out[phase]["missed_events"] == 0
        assert out[phase]["event_latency_ms"]["samples"] > 0
    assert out["saturated"]["dossiers"] == 12 and out["dossiers_per_second"] > 0
    assert out["baseline_ping_ms"]["samples"] == 200
