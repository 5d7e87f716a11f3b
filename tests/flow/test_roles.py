"""Each forbidden action is refused with a clear error naming the rule."""

from __future__ import annotations

import pytest

from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.flow.flow_helpers import ORIENT_48H, Actor, answer_call, snp_dossier


@pytest.fixture
def desks(service: FlowService, people: dict[str, Principal]) -> dict[str, Actor]:
    return {name: Actor(service, p) for name, p in people.items()}


@pytest.mark.parametrize("arm", ["n1", "n2"])
def test_arm_cannot_record_a_medical_decision(desks: dict[str, Actor], arm: str) -> None:
    d = answer_call(desks["n1"])
    if arm == "n2":
        desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P1")
        desks["n2"].send("dossier.take", dossier_id=d["id"])
    err = desks[arm].refused("dossier.decide", dossier_id=d["id"], **ORIENT_48H)
    assert err.code == "forbidden"
    assert "seul un médecin" in err.message


def test_supervisor_cannot_record_a_medical_decision_either(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    err = desks["sup"].refused("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
    assert err.code == "forbidden"


@pytest.mark.parametrize(
    "who,queue",
    [
        ("osnp", "SNP"),
        ("osnp", "AMU_MEDECIN"),
        ("n1", "SNP"),
        ("mrl", "AMU_MEDECIN"),
        ("n2", "SNP"),
        ("amu", "SNP"),
    ],
)
def test_reading_a_queue_without_the_right_is_refused(
    desks: dict[str, Actor], who: str, queue: str
) -> None:
    err = desks[who].refused("queue.list", queue=queue)
    assert err.code == "forbidden"
    assert "n'a pas accès" in err.message


def test_supervisor_reads_every_queue(desks: dict[str, Actor]) -> None:
    for queue in ("SNP", "AMU_MEDECIN", "AMU_N2"):
        assert desks["sup"].send("queue.list", queue=queue)["queue"] == queue


@pytest.mark.parametrize(
    ("who", "code"),
    # The N1 who opened the dossier sees it; the others may not even learn it exists.
    [("n1", "forbidden"), ("osnp", "not_found"), ("amu", "not_found"), ("n2", "not_found")],
)
def test_only_the_mrl_takes_from_the_snp_queue(
    desks: dict[str, Actor], who: str, code: str
) -> None:
    d = answer_call(desks["n1"])
    desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P2")
    err = desks[who].refused("dossier.take", dossier_id=d["id"])
    assert err.code == code
    if code == "not_found":
        assert d["number"] not in err.message


@pytest.mark.parametrize("who", ["mrl", "osnp", "n2", "amu"])
def test_only_n1_sets_the_priority(desks: dict[str, Actor], who: str) -> None:
    d = answer_call(desks["n1"])
    assert (
        desks[who].refused("dossier.qualify", dossier_id=d["id"], priority="P2").code == "forbidden"
    )


def test_n1_cannot_close_a_p2_dossier(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P2")
    assert desks["n1"].refused("dossier.close", dossier_id=d["id"]).code in (
        "forbidden",
        "not_found",
    )


def test_n1_cannot_close_an_unqualified_call(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    assert desks["n1"].refused("dossier.close", dossier_id=d["id"]).code == "forbidden"


def test_doctor_cannot_close_without_a_decision(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    assert desks["mrl"].refused("dossier.close", dossier_id=dossier_id).code == "invalid_state"


def test_another_desk_cannot_edit_a_dossier_it_does_not_hold(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    err = desks["n1b"].refused("dossier.update", dossier_id=d["id"], fields={"motif": "x"})
    assert err.code in ("forbidden", "not_found")


def test_osnp_cannot_take_or_read_a_dossier_in_regulation(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    assert desks["osnp"].refused("dossier.get", dossier_id=dossier_id).code == "not_found"


@pytest.mark.parametrize("who", ["mrl", "n1", "sup"])
def test_only_an_osnp_takes_a_task(desks: dict[str, Actor], who: str) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    task = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    assert desks[who].refused("task.take", task_id=task["id"]).code in ("forbidden", "not_found")


def test_an_osnp_cannot_close_a_task_held_by_another(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    task = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    desks["osnp"].send("task.take", task_id=task["id"])
    err = desks["osnp2"].refused(
        "task.close", task_id=task["id"], outcome="SANS_SOLUTION", no_solution_reason="AUTRE"
    )
    assert err.code == "forbidden"


def test_osnp_does_not_answer_incoming_calls(desks: dict[str, Actor]) -> None:
    assert desks["osnp"].refused("call.offered", call_ref="x", line="15").code == "forbidden"


def test_amu_doctor_cannot_take_back_a_dossier_awaiting_osnp(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
    err = desks["amu"].refused("dossier.move_track", dossier_id=dossier_id, track="AMU")
    assert err.code in ("forbidden", "not_found")
