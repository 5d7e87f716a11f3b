"""The flow benchmark runs end to end and every intent's event reaches another desk.

Timing is not asserted here (noisy machines): figures come from `sasdesk bench flow`.
"""

from __future__ import annotations

import json

import pytest

from app.bench.flow import desk_roles, percentile
from app.cli import main


def test_desk_roles_shape_a_room() -> None:
    roles = desk_roles(20)
    assert len(roles) == 20
    assert {r.value for r in roles} == {"ARM_N1", "MRL", "OSNP", "MEDECIN_AMU", "SUPERVISEUR"}


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0


def test_bench_flow_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
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
    for phase in ("paced", "saturated"):  # each phase's CPU, the desks' logins left out
        cpu = out[phase]["cpu_ms_per_intent"]
        assert cpu["hubs"] > 0 and cpu["driver"] > 0
        # the statistics the hubs had not folded yet, folded and counted as theirs
        assert out[phase]["stats_folded_after_the_phase_cpu_ms"] >= 0
        assert cpu["total"] == pytest.approx(cpu["hubs"] + cpu["driver"], abs=0.01)


@pytest.mark.peers
def test_bench_flow_on_two_postgresql_hubs_side_by_side_with_sqlite(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "bench",
            "flow",
            "--dossiers",
            "8",
            "--desks",
            "6",
            "--rate",
            "10",
            "--paced-seconds",
            "1",
            "--pg-temp",
            "--hubs",
            "2",
            "--also-sqlite",
            "5",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    main_run, sqlite_run = out["main"], out["sqlite"]
    assert (main_run["db"], main_run["hubs"], sqlite_run["db"]) == ("postgresql", 2, "sqlite")
    for run in (main_run, sqlite_run):  # events crossed hubs: none missed
        assert run["saturated"]["missed_events"] == 0 and run["paced"]["missed_events"] == 0
        assert run["hub_cpu_ms_per_intent"] > 0
    # The throwaway PostgreSQL server's CPU is measured too (not SQLite's: in the hub).
    assert main_run["saturated"]["cpu_ms_per_intent"]["postgresql"] > 0
    assert "postgresql" not in sqlite_run["saturated"]["cpu_ms_per_intent"]
    # The machine's bound whatever the hubs cost: the desks' side and PostgreSQL's CPU.
    bound = main_run["saturated"]["machine_bound"]
    cpu = main_run["saturated"]["cpu_ms_per_intent"]
    assert bound["driver_and_postgresql_cpu_ms_per_intent"] == pytest.approx(
        cpu["driver"] + cpu["postgresql"], abs=0.002
    )
    most = bound["most_intents_per_second_if_hubs_cost_nothing"]
    assert most == pytest.approx(
        bound["cores"] * 1000 / bound["driver_and_postgresql_cpu_ms_per_intent"], rel=0.01
    )
    # Little's law: with its intents always in flight, the phase cannot beat that bound.
    assert main_run["saturated"]["intents_per_second"] < most
    # Hubs costing more CPU per intent than this cannot even have a 50 ms mean.
    allowed = bound["most_hub_cpu_ms_per_intent_for_a_50_ms_mean"]
    others = bound["driver_and_postgresql_cpu_ms_per_intent"]
    concurrency = main_run["saturated"]["concurrency"]
    assert allowed == pytest.approx(bound["cores"] * 50 / concurrency - others, abs=0.002)
    assert bound["least_mean_latency_ms_if_hubs_cost_nothing"] == pytest.approx(
        main_run["saturated"]["concurrency"] * 1000 / most,
        rel=0.02,
        abs=0.06,  # printed to 0.1 ms
    )
    assert [r["desks"] for r in out["side_by_side"]] == [6, 5]
