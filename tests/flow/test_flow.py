"""The two-level flow, from ring to closed dossier, against a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Call, Dossier, Event
from app.db.types import utcnow
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.flow.flow_helpers import ORIENT_48H, Actor, answer_call, snp_dossier


@pytest.fixture
def desks(service: FlowService, people: dict[str, Principal]) -> dict[str, Actor]:
    return {name: Actor(service, p) for name, p in people.items()}


def test_answer_opens_dossier_with_line_caller_and_timestamps(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"], "ref-a", line="116117", caller="0639980102")
    assert d["status"] == "OPEN"
    assert d["line"] == "116117"
    assert d["caller_number"] == "0639980102"
    assert d["callback_number"] == "0639980102"
    assert d["owner"]["username"] == "n1"
    assert d["ringing_at"] <= d["answered_at"]
    assert d["number"].endswith(f"{d['id']:06d}")


def test_p2_goes_to_snp_then_orientation_creates_task_closed_by_osnp(
    desks: dict[str, Actor], sessions: sessionmaker[Session]
) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    reply = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
    task = reply["task"]
    assert reply["dossier"]["status"] == "AWAITING_OSNP"
    assert reply["dossier"]["owner"] is None
    deadline = task["deadline_at"]
    created = task["created_at"]
    from datetime import datetime

    assert datetime.fromisoformat(deadline) - datetime.fromisoformat(created) == timedelta(hours=48)
    assert desks["mrl"].events() == ["dossier.decided", "task.created"]

    desks["osnp"].send("task.take", task_id=task["id"])
    when = (utcnow() + timedelta(hours=20)).isoformat()
    out = desks["osnp"].send(
        "task.close",
        task_id=task["id"],
        outcome="RDV_MT",
        appointment={"with": "Dr Aubert", "at": when, "place": "Cabinet du Port, La Rochelle"},
    )
    assert out["dossier"]["status"] == "CLOSED"
    assert out["task"]["appointment_with"] == "Dr Aubert"
    timeline = desks["sup"].send("dossier.get", dossier_id=dossier_id)["timeline"]
    assert [e["type"] for e in timeline] == [
        "dossier.opened",
        "dossier.updated",
        "dossier.qualified",
        "dossier.taken",
        "dossier.decided",
        "task.created",
        "task.taken",
        "task.closed",
        "dossier.closed",
    ]
    assert timeline[3]["actor"].startswith("mrl")


def test_p0_goes_straight_to_amu_doctor_flagged_reflex(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    out = desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P0")["dossier"]
    assert (out["queue"], out["track"], out["reflex"], out["status"]) == (
        "AMU_MEDECIN",
        "AMU",
        True,
        "QUEUED",
    )
    taken = desks["amu"].send("queue.next", queue="AMU_MEDECIN")["dossier"]
    assert taken["id"] == d["id"] and taken["owner"]["username"] == "amu"


def test_p1_goes_to_n2_who_forwards_to_amu_doctor(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P1")
    desks["n2"].send("dossier.take", dossier_id=d["id"])
    out = desks["n2"].send("dossier.forward", dossier_id=d["id"], queue="AMU_MEDECIN")
    assert out["dossier"]["queue"] == "AMU_MEDECIN" and out["dossier"]["owner"] is None
    desks["amu"].send("dossier.take", dossier_id=d["id"])
    desks["amu"].send(
        "dossier.decide",
        dossier_id=d["id"],
        decision="INTER",
        care_level="R1",
        filiere="AMU",
        means="SMUR",
    )
    closed = desks["amu"].send("dossier.close", dossier_id=d["id"])["dossier"]
    assert closed["status"] == "CLOSED" and closed["decision"] == "INTER"


def test_p3_is_closed_by_n1_with_information_given(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    out = desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P3")["dossier"]
    assert out["status"] == "OPEN" and out["queue"] is None
    closed = desks["n1"].send(
        "dossier.close", dossier_id=d["id"], reason="Adresse de la pharmacie de garde donnée"
    )["dossier"]
    assert closed["status"] == "CLOSED"
    assert closed["close_reason"] == "Adresse de la pharmacie de garde donnée"


def test_doctor_moves_snp_dossier_back_to_amu_and_timeline_shows_it(
    desks: dict[str, Actor],
) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    out = desks["mrl"].send(
        "dossier.move_track",
        dossier_id=dossier_id,
        track="AMU",
        reason="Douleur thoracique au rappel",
    )["dossier"]
    assert (out["track"], out["queue"], out["owner"]) == ("AMU", "AMU_MEDECIN", None)
    timeline = desks["amu"].send("dossier.get", dossier_id=dossier_id)["timeline"]
    moved = [e for e in timeline if e["type"] == "dossier.track_moved"]
    assert moved and moved[0]["data"]["from_track"] == "SNP"
    assert moved[0]["data"]["to_track"] == "AMU"


def test_mrl_takes_back_a_dossier_awaiting_osnp_which_cancels_the_task(
    desks: dict[str, Actor],
) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    task = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    desks["mrl"].send(
        "dossier.move_track",
        dossier_id=dossier_id,
        track="AMU",
        reason="aggravation signalée par le patient",
    )
    assert desks["mrl"].events()[0] == "task.cancelled"
    err = desks["osnp"].refused("task.take", task_id=task["id"])
    assert err.code == "conflict"


def test_queue_next_takes_highest_priority_then_longest_wait(desks: dict[str, Actor]) -> None:
    ids = []
    for n, prio in enumerate(["P1", "P0", "P1"]):
        d = answer_call(desks["n1"], f"r{n}")
        desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority=prio)
        ids.append(d["id"])
    # P0 went to the doctor's queue; in AMU_N2 the older P1 comes first.
    assert desks["n2"].send("queue.next", queue="AMU_N2")["dossier"]["id"] == ids[0]
    assert desks["n2"].send("queue.next", queue="AMU_N2")["dossier"]["id"] == ids[2]
    assert desks["n2"].refused("queue.next", queue="AMU_N2").code == "not_found"


def test_a_dossier_cannot_be_taken_twice(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    desks["n1"].send("dossier.qualify", dossier_id=d["id"], priority="P2")
    desks["mrl"].send("dossier.take", dossier_id=d["id"])
    err = desks["mrl2"].refused("dossier.take", dossier_id=d["id"])
    assert err.code in ("conflict", "not_found")


def test_fork_counts_one_call_and_abandon_once(
    desks: dict[str, Actor], sessions: sessionmaker[Session]
) -> None:
    for desk in ("n1", "n1b", "sup", "n1b"):  # n1b tells its ring twice (a reply lost)
        desks[desk].send("call.offered", call_ref="fork-1", line="15", caller="0639980103")
    for desk in ("n1", "n1b", "sup"):
        desks[desk].send("call.ended", call_ref="fork-1", reason="caller_gave_up")
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == "fork-1"))
        assert call is not None and call.abandoned and call.desks_rung == 3
        ended = s.scalar(select(func.count()).select_from(Event).where(Event.type == "call.ended"))
        assert ended == 1


def test_answered_elsewhere_does_not_end_the_call(
    desks: dict[str, Actor], sessions: sessionmaker[Session]
) -> None:
    desks["n1"].send("call.offered", call_ref="fork-2", line="15")
    desks["n1b"].send("call.offered", call_ref="fork-2", line="15")
    desks["n1b"].send("call.ended", call_ref="fork-2", reason="answered_elsewhere")
    d = desks["n1"].send("call.answered", call_ref="fork-2")["dossier"]
    assert desks["n1b"].refused("call.answered", call_ref="fork-2").code == "conflict"
    desks["n1"].send("call.ended", call_ref="fork-2", reason="local_hangup")
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == "fork-2"))
        assert call is not None and not call.abandoned and call.end_reason == "local_hangup"
        assert s.get(Dossier, d["id"]) is not None


def test_replayed_answer_returns_the_same_dossier(desks: dict[str, Actor]) -> None:
    first = answer_call(desks["n1"], "replay")
    again = desks["n1"].send("call.answered", call_ref="replay")["dossier"]
    assert again["id"] == first["id"]


def test_update_is_partial_and_versions_increase(desks: dict[str, Actor]) -> None:
    d = answer_call(desks["n1"])
    a = desks["n1"].send(
        "dossier.update", dossier_id=d["id"], fields={"motif": "Cystite", "patient_age": 34}
    )["dossier"]
    b = desks["n1"].send(
        "dossier.update", dossier_id=d["id"], fields={"address": "3 rue des Merciers"}
    )["dossier"]
    assert b["motif"] == "Cystite" and b["patient_age"] == 34
    assert b["address"] == "3 rue des Merciers"
    assert b["version"] > a["version"] > d["version"]
    # The same value again changes nothing and logs nothing.
    desks["n1"].send("dossier.update", dossier_id=d["id"], fields={"motif": "Cystite"})
    assert desks["n1"].events() == []


def test_task_close_requires_appointment_details_or_reason(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    task = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    desks["osnp"].send("task.take", task_id=task["id"])
    assert (
        desks["osnp"].refused("task.close", task_id=task["id"], outcome="RDV_CRENEAU").code
        == "invalid_message"
    )
    assert (
        desks["osnp"].refused("task.close", task_id=task["id"], outcome="SANS_SOLUTION").code
        == "invalid_message"
    )
    out = desks["osnp"].send(
        "task.close",
        task_id=task["id"],
        outcome="SANS_SOLUTION",
        no_solution_reason="PATIENT_INJOIGNABLE",
    )
    assert out["task"]["outcome"] == "SANS_SOLUTION"
    assert out["dossier"]["status"] == "CLOSED"


def test_refused_intent_changes_nothing(
    desks: dict[str, Actor], sessions: sessionmaker[Session]
) -> None:
    d = answer_call(desks["n1"])
    with sessions() as s:
        before = s.scalar(select(func.count()).select_from(Event))
        dossier = s.get(Dossier, d["id"])
        assert dossier is not None
        version = dossier.version
    desks["n1"].refused("dossier.decide", dossier_id=d["id"], **ORIENT_48H)
    desks["osnp"].refused("dossier.update", dossier_id=d["id"], fields={"motif": "x"})
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == before
        dossier = s.get(Dossier, d["id"])
        assert dossier is not None and dossier.version == version


def test_labels_do_not_collide_between_enums() -> None:
    from app.domain.enums import DossierStatus, TaskStatus

    assert DossierStatus.OPEN.label == "En qualification"
    assert TaskStatus.OPEN.label == "À traiter"


def test_osnp_reopens_a_task_after_a_cancelled_appointment(desks: dict[str, Actor]) -> None:
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    task = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    assert (
        desks["osnp"].refused("task.reopen", task_id=task["id"], reason="x").code == "invalid_state"
    )  # still open
    desks["osnp"].send("task.take", task_id=task["id"])
    desks["osnp"].send(
        "task.close",
        task_id=task["id"],
        outcome="RDV_CRENEAU",
        appointment={"with": "Dr Banc", "at": "2030-01-01T10:00:00+00:00"},
    )
    assert desks["mrl"].refused("task.reopen", task_id=task["id"], reason="x").code in (
        "forbidden",
        "not_found",
    )
    out = desks["osnp2"].send(
        "task.reopen", task_id=task["id"], reason="Le médecin annule : urgence au cabinet"
    )
    assert out["task"]["status"] == "IN_PROGRESS" and out["task"]["outcome"] is None
    assert out["task"]["owner"]["username"] == "osnp2"
    assert out["dossier"]["status"] == "AWAITING_OSNP" and out["dossier"]["closed_at"] is None
    timeline = desks["sup"].send("dossier.get", dossier_id=dossier_id)["timeline"]
    assert timeline[-1]["type"] == "task.reopened"
    assert timeline[-1]["data"]["previous_outcome"] == "RDV_CRENEAU"
