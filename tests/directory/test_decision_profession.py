"""The regulating doctor's decision names whom to see; the task carries it, the search follows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Event, OsnpTask
from app.directory.hub import install
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.directory.conftest import NOW
from tests.directory.test_professions_search import _territory
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier


def _desks(sessions: sessionmaker[Session], people: dict[str, Principal]) -> dict[str, Actor]:
    with sessions.begin() as s:
        _territory(s)
    service = FlowService(sessions, clock=lambda: NOW)
    install(service)
    return {name: Actor(service, p) for name, p in people.items()}


def test_a_paediatrician_decision_is_carried_by_the_task_and_ranks_the_search(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    desks = _desks(sessions, people)
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])  # Zoé, 3, fièvre, La Rochelle
    reply = desks["mrl"].send(
        "dossier.decide", dossier_id=dossier_id, specialty="SM40", **ORIENT_48H
    )
    task = reply["task"]
    assert (task["profession"], task["specialty"], task["wanted_label"]) == (
        "10",
        "SM40",
        "Pédiatre",
    )
    decided = next(e for e in desks["mrl"].emitted if e.message["event"] == "dossier.decided")
    assert decided.message["data"]["specialty"] == "SM40"
    with sessions() as s:
        row = s.scalars(select(OsnpTask).where(OsnpTask.id == task["id"])).one()
        assert (row.profession, row.specialty) == ("10", "SM40")
    desks["osnp"].send("task.take", task_id=task["id"])
    found = desks["osnp"].send("directory.search", dossier_id=dossier_id)["search"]
    assert found["query"]["wanted_label"] == "Pédiatre"
    assert [d["last_name"] for d in found["doctors"]][:2] == ["Petit", "Aubert"]
    # The OSNP may widen the search to every profession, or ask for another one.
    every = desks["osnp"].send("directory.search", dossier_id=dossier_id, profession="*")
    assert "Roux" in [d["last_name"] for d in every["search"]["doctors"]]


def test_a_nurse_decision_searches_nurses_and_a_default_decision_stays_general_practice(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    desks = _desks(sessions, people)
    first = snp_dossier(desks["n1"], desks["mrl"], "call-1")
    task = desks["mrl"].send("dossier.decide", dossier_id=first, profession="60", **ORIENT_48H)
    assert (task["task"]["profession"], task["task"]["specialty"]) == ("60", "")
    desks["osnp"].send("task.take", task_id=task["task"]["id"])
    found = desks["osnp"].send("directory.search", dossier_id=first)["search"]
    assert [d["last_name"] for d in found["doctors"]] == ["Fabre", "Roux"]
    second = snp_dossier(desks["n1"], desks["mrl"], "call-2")
    plain = desks["mrl"].send("dossier.decide", dossier_id=second, **ORIENT_48H)["task"]
    assert (plain["profession"], plain["specialty"], plain["wanted_label"]) == (
        "10",
        "SM54",
        "Médecin généraliste",
    )


def test_unknown_or_misplaced_codes_are_refused_and_change_nothing(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    desks = _desks(sessions, people)
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    with sessions() as s:
        before = len(s.scalars(select(Event)).all())
    cases = [
        ({"specialty": "SM99"}, "spécialité inconnue"),
        ({"profession": "99"}, "profession inconnue"),
        ({"profession": "60", "specialty": "SM40"}, "ne s'applique pas"),
    ]
    for extra, message in cases:
        err = desks["mrl"].refused("dossier.decide", dossier_id=dossier_id, **ORIENT_48H, **extra)
        assert err.code == "invalid_message" and message in str(err), (extra, err)
    advice = {"decision": "CONSEIL", "care_level": "R4", "filiere": "SNP", "specialty": "SM40"}
    err = desks["mrl"].refused("dossier.decide", dossier_id=dossier_id, **advice)
    assert "que pour une consultation" in str(err)
    with sessions() as s:
        assert len(s.scalars(select(Event)).all()) == before
        assert s.scalars(select(OsnpTask)).all() == []
    refused = desks["osnp"].refused("directory.search", commune_insee="17300", specialty="XX")
    assert "spécialité inconnue" in str(refused)
