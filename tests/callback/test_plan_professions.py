"""The call-back plan follows whom the regulating doctor asked for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.directory.models import Structure, bump_revision
from tests.callback.conftest import NOW, Desks, Territory, osnp_task, plan, target
from tests.directory.builders import AYTRE, doctor, slot


def kinds(p: dict) -> list[str]:
    return [t["kind"] for t in p["targets"]]


def _others(sessions: sessionmaker[Session]) -> dict[str, int]:
    """A paediatrician, a paediatrician in the MT's practice, two nurses, a CPTS."""
    with sessions.begin() as s:
        paed = doctor(s, "10100000011", "Petit", specialty="Pédiatrie", at=AYTRE)
        paed_conf = doctor(
            s, "10100000012", "Guérin", specialty="SM40", address="12 rue des Merciers"
        )
        nurse = doctor(s, "10100000013", "Caron", profession="Infirmier", specialty="")
        nurse2 = doctor(s, "10100000014", "Leroy", profession="60", specialty="", at=AYTRE)
        slot(s, paed, NOW + timedelta(hours=7))
        slot(s, nurse, NOW + timedelta(hours=4))
        slot(s, nurse2, NOW + timedelta(hours=3))
        s.add(
            Structure(
                kind="CPTS",
                name="CPTS Aunis Sud",
                snp_phone="0546000000",
                address="2 rue de la Gare, Aytré",
                communes=["17300", "17028"],
                rev=bump_revision(s),
            )
        )
        s.add(Structure(kind="CPTS", name="CPTS Loin", communes=["79191"], rev=bump_revision(s)))
        return {"paed": paed.id, "paed_conf": paed_conf.id, "nurse": nurse.id, "n2": nurse2.id}


def test_a_wound_for_a_nurse_goes_to_nurses_and_the_cpts_not_the_gp_practice(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    ids = _others(sessions)
    task_id = osnp_task(desks, "Dr Claire Vasseur", wanted={"profession": "60"})
    p = plan(desks, task_id)
    assert kinds(p) == ["CRENEAU", "CRENEAU", "CPTS", "TELECONSULTATION", "PDSA", "URGENCES"]
    assert [t["effecteur_id"] for t in p["targets"][:2]] == [ids["n2"], ids["nurse"]]
    cpts = target(p, "CPTS")
    assert (cpts["name"], cpts["phone_secretary"]) == ("CPTS Aunis Sud", "0546000000")
    assert any("Infirmier" in n for n in p["notes"])


def test_a_paediatrician_plan_calls_the_mt_practice_only_where_it_is_paediatric(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    ids = _others(sessions)
    task_id = osnp_task(desks, "Dr Claire Vasseur", wanted={"specialty": "SM40"})
    p = plan(desks, task_id)
    # The MT (a GP) and her GP colleague are not called; the paediatrician of her
    # practice is, then the paediatrician with a slot, then the GPs with slots.
    assert kinds(p)[:2] == ["CONFRERE", "CRENEAU"]
    assert "MT" not in kinds(p) and "CPTS" not in kinds(p)
    assert target(p, "CONFRERE")["effecteur_id"] == ids["paed_conf"]
    creneaux = [t for t in p["targets"] if t["kind"] == "CRENEAU"]
    assert creneaux[0]["effecteur_id"] == ids["paed"]
    assert "(pédiatre)" in creneaux[0]["why"]
    assert [t["effecteur_id"] for t in creneaux[1:]] == [territory.sas.id, territory.other.id]
    assert "n'est pas pédiatre" in creneaux[1]["why"]
    assert any("Pédiatre" in n and "médecin traitant" in n for n in p["notes"])


def test_general_practice_plan_is_unchanged_and_a_dentist_plan_names_the_dental_duty(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    _others(sessions)
    gp = plan(desks, osnp_task(desks, "Dr Claire Vasseur", "call-1"))
    assert kinds(gp)[:2] == ["MT", "CONFRERE"]
    assert target(gp, "MT")["effecteur_id"] == territory.mt.id
    assert "CPTS" not in kinds(gp)
    dentist = plan(desks, osnp_task(desks, "Dr Vasseur", "call-2", wanted={"profession": "40"}))
    assert target(dentist, "PDSA")["name"] == "Chirurgien-dentiste de garde"
    assert "MT" not in kinds(dentist)
