"""The seed-003 columns come from events: nobody types "RDV MT" at the end of the day."""

from __future__ import annotations

from datetime import timedelta

from tests.callback.conftest import NOW, Desks, Territory, osnp_task, plan, target


def test_month_table_is_derived_from_attempts_and_outcomes(
    desks: Desks, territory: Territory
) -> None:
    outcomes = {}
    for n, kind in enumerate(("MT", "CONFRERE", "CRENEAU", "HORS_DISPO")):
        task_id = osnp_task(desks, ref=f"call-{n}")
        p = plan(desks, task_id)
        if kind != "MT":
            desks.osnp.send("callback.attempt", target_id=target(p, "MT")["id"], result="BUSY")
        t = target(p, kind)
        extra = (
            {}
            if kind == "CRENEAU"
            else {"appointment": {"at": (NOW + timedelta(hours=4 + n)).isoformat()}}
        )
        reply = desks.osnp.send("callback.attempt", target_id=t["id"], result="ACCEPTED", **extra)
        outcomes[kind] = reply["appointment"]["outcome"]
    open_task = osnp_task(desks, ref="call-9")
    desks.osnp.send(
        "callback.attempt", target_id=target(plan(desks, open_task), "MT")["id"], result="VOICEMAIL"
    )

    stats = desks.sup.send("callback.stats", start="2026-11-23", end="2026-11-23")["stats"]
    totals = stats["totals"]
    assert totals == {
        "dossiers_osnp": 5,
        "appels": 8,
        "rdv": 4,
        "rdv_mt": 1,
        "rdv_confrere": 1,
        "rdv_plateforme": 1,
        "rdv_hors_dispo": 1,
        "sans_solution": 0,
    }
    assert [r["day"] for r in stats["rows"]] == ["2026-11-23"]
    assert outcomes == {
        "MT": "RDV_MT",
        "CONFRERE": "RDV_CONFRERE",
        "CRENEAU": "RDV_CRENEAU",
        "HORS_DISPO": "RDV_HORS_DISPO",
    }
    empty = desks.sup.send("callback.stats", start="2026-11-24", end="2026-11-30")["stats"]
    assert empty["rows"] == [] and empty["totals"]["rdv"] == 0
    assert (
        desks.n1.refused("callback.stats", start="2026-11-23", end="2026-11-23").code == "forbidden"
    )
