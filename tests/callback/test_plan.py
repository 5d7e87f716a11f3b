"""The plan: the MT first, then the practice's colleagues, the slots as the search
ranks them, the doctors beyond slots, then the fallbacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.callback.hub import install as install_callback
from app.directory.hub import install as install_directory
from app.directory.models import Effecteur
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.hub.protocol import ProtocolError
from tests.callback.conftest import NOW, Desks, Territory, osnp_task, plan, target
from tests.directory.builders import leave
from tests.directory.conftest import NOW as DEMO_NOW
from tests.flow.flow_helpers import Actor


def kinds(p: dict) -> list[str]:
    return [t["kind"] for t in p["targets"]]


def test_mt_in_directory_comes_first_then_colleague_slots_beyond_fallbacks(
    desks: Desks, territory: Territory
) -> None:
    task_id = osnp_task(desks, "Dr Claire Vasseur")
    p = plan(desks, task_id)
    assert kinds(p) == [
        "MT",
        "CONFRERE",
        "CRENEAU",
        "CRENEAU",
        "HORS_DISPO",
        "TELECONSULTATION",
        "PDSA",
        "URGENCES",
    ]
    mt = target(p, "MT")
    assert mt["effecteur_id"] == territory.mt.id
    assert mt["phone_direct"] == "0600000000"
    assert target(p, "CONFRERE")["effecteur_id"] == territory.confrere.id
    # ranked by the slot search: the SAS participant before an earlier non-participant;
    # the doctor 31 km away is outside the radius
    creneaux = [t for t in p["targets"] if t["kind"] == "CRENEAU"]
    assert [t["effecteur_id"] for t in creneaux] == [territory.sas.id, territory.other.id]
    assert "participant SAS" in creneaux[0]["why"]
    assert creneaux[0]["slot_id"] is not None and creneaux[0]["slot_start"]
    beyond = target(p, "HORS_DISPO")
    assert beyond["effecteur_id"] == territory.beyond.id
    assert beyond["conditions"] == "M'appeler avant chaque consultation"
    assert p["next_target_id"] == mt["id"]
    assert [t["position"] for t in p["targets"]] == list(range(1, 9))


def test_no_treating_doctor_is_a_valid_answer(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks, "pas de médecin traitant")
    p = plan(desks, task_id)
    assert "MT" not in kinds(p) and "CONFRERE" not in kinds(p)
    assert kinds(p)[0] == "CRENEAU"
    assert any("pas de médecin traitant" in n for n in p["notes"])


def test_mt_absent_from_directory_is_kept_with_a_note_to_find_the_number(
    desks: Desks, territory: Territory
) -> None:
    task_id = osnp_task(desks, "Dr Tournesol")
    p = plan(desks, task_id)
    mt = p["targets"][0]
    assert mt["kind"] == "MT" and mt["name"] == "Dr Tournesol" and mt["effecteur_id"] is None
    assert "absent de l'annuaire" in mt["why"]
    assert "CONFRERE" not in kinds(p)  # unknown practice: no colleagues to offer


def test_plan_is_built_once_and_events_say_so(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks)
    first = plan(desks, task_id)
    assert "callback.plan_built" in desks.osnp.events()
    again = plan(desks, task_id)
    assert [t["id"] for t in again["targets"]] == [t["id"] for t in first["targets"]]
    assert desks.osnp.events() == []


def test_only_the_owner_builds_the_plan(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks)
    err = desks.osnp2.refused("callback.plan", task_id=task_id)
    assert err.code == "forbidden"
    err = desks.n1.refused("callback.plan", task_id=task_id)
    assert err.code == "forbidden" and "tâche" not in err.message  # the role, not the task


def test_reorder_skip_and_add(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks)
    p = plan(desks, task_id)
    ids = [t["id"] for t in p["targets"]]
    beyond = target(p, "HORS_DISPO")["id"]
    p = desks.osnp.send("callback.plan.reorder", task_id=task_id, order=[beyond])["plan"]
    assert p["targets"][0]["id"] == beyond
    assert [t["id"] for t in p["targets"][1:]] == [i for i in ids if i != beyond]
    assert desks.osnp.events() == ["callback.plan_reordered"]

    reply = desks.osnp.send(
        "callback.target.skip", target_id=beyond, reason="en congés selon le secrétariat"
    )
    assert reply["target"]["status"] == "SKIPPED"
    assert reply["plan"]["next_target_id"] == target(p, "MT")["id"]
    err = desks.osnp.refused("callback.target.skip", target_id=beyond, reason="encore")
    assert err.code == "invalid_state"
    with pytest.raises(ProtocolError, match="reason"):  # a skip needs a reason
        desks.osnp.send("callback.target.skip", target_id=ids[1], reason="  ")

    reply = desks.osnp.send(
        "callback.target.add",
        task_id=task_id,
        kind="HORS_DISPO",
        effecteur_id=territory.far.id,
        position=2,
        reason="connaît bien la famille",
    )
    added = reply["target"]
    assert added["name"] == "Dr Anne Roux" and added["phone_direct"] == "0600000000"
    assert reply["plan"]["targets"][1]["id"] == added["id"]
    assert desks.osnp.events() == ["callback.target_added"]
    err = desks.osnp.refused("callback.target.add", task_id=task_id, kind="CRENEAU")
    assert err.code == "invalid_message"
    err = desks.osnp.refused("callback.plan.reorder", task_id=task_id, order=[999999])
    assert err.code == "not_found"


def test_mt_on_leave_is_still_first_but_flagged(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        mt = s.get(Effecteur, territory.mt.id)
        assert mt is not None
        leave(s, mt, NOW - timedelta(days=1), NOW + timedelta(days=6))
    p = plan(desks, osnp_task(desks, "Dr Vasseur"))
    first = p["targets"][0]
    assert first["kind"] == "MT" and "absent jusqu'au 29/11 (congés)" in first["why"]


def test_demo_territory_mt_and_practice_colleagues(
    demo_sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    service = FlowService(demo_sessions, clock=lambda: DEMO_NOW)
    install_directory(service)
    install_callback(service)
    desks = Desks(*(Actor(service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))
    p = plan(desks, osnp_task(desks, "Dr Moinard"))
    by_kind: dict[str, list[str]] = {}
    for t in p["targets"]:
        by_kind.setdefault(t["kind"], []).append(t["name"])
    assert by_kind["MT"] == ["Dr Nathalie Moinard"]
    assert {"Dr Laurent Jarry", "Dr Xavier Favreau"} <= set(by_kind["CONFRERE"])
    assert by_kind["CRENEAU"] and by_kind["PDSA"]
    assert all(t["phone_direct"] or t["phone_secretary"] for t in p["targets"] if t["effecteur_id"])
