"""The search follows the profession and specialty the regulating doctor asked for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.directory.baseline import baseline_search
from app.directory.query import TIER_MT, TIER_SAS, SearchQuery
from tests.directory.builders import AYTRE, SURGERES, doctor, slot
from tests.directory.conftest import NOW
from tests.directory.test_search import names, search

H = timedelta(hours=1)


def _territory(s: Session) -> None:
    mt = doctor(s, "10000000101", "Moinard", address="22 rue Saint-Louis", at=SURGERES)
    doctor(s, "10000000102", "Jarry", address="22 rue Saint-Louis", at=SURGERES)  # confrère
    gp = doctor(s, "10000000103", "Bodin")
    gp_paed = doctor(s, "10000000104", "Aubert", skills=["Pédiatrie"], at=AYTRE)
    paed = doctor(s, "10000000105", "Petit", specialty="SM40", at=AYTRE)
    nurse = doctor(s, "10000000106", "Roux", profession="Infirmier", specialty="")
    nurse_far = doctor(s, "10000000107", "Fabre", profession="60", specialty="", at=AYTRE)
    doctor(s, "10000000108", "Morel", profession="Sage-femme", specialty="")
    slot(s, mt, NOW + 30 * H)
    slot(s, gp, NOW + H)  # the earliest slot of all: a GP's
    slot(s, gp_paed, NOW + 3 * H)
    slot(s, paed, NOW + 8 * H)
    slot(s, nurse, NOW + 5 * H)
    slot(s, nurse_far, NOW + 2 * H)


def test_a_paediatrician_search_shows_paediatricians_first(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        _territory(s)
    r = search(sessions, profession="10", specialty="SM40", treating_doctor="Dr Moinard")
    # The paediatrician, then the GP whose savoir-faire is paediatrics, then the MT's
    # practice and the other GPs; no nurse nor midwife.
    assert names(r) == ["Petit", "Aubert", "Moinard", "Jarry", "Bodin"]
    assert [d.specialty_match for d in r.doctors] == [2, 1, 0, 0, 0]
    assert r.doctors[0].info["profession_label"] == "Pédiatre"
    assert r.doctors[2].tier == TIER_MT


def test_a_general_practice_search_ranks_as_before_but_only_doctors(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        _territory(s)
    gp = search(sessions, profession="10", specialty="SM54", treating_doctor="Dr Moinard")
    assert names(gp) == ["Moinard", "Jarry", "Bodin", "Aubert", "Petit"]
    every = search(sessions, treating_doctor="Dr Moinard")  # no profession: everybody
    assert [n for n in names(every) if n in names(gp)] == names(gp)
    assert {"Roux", "Fabre", "Morel"} <= set(names(every))


def test_a_nurse_search_shows_nurses_and_not_the_treating_doctor(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        _territory(s)
    r = search(sessions, profession="60", specialty="", treating_doctor="Dr Moinard")
    assert names(r) == ["Fabre", "Roux"]  # by earliest slot: the MT's practice is not asked
    assert {d.tier for d in r.doctors} == {TIER_SAS}
    assert not any("médecin traitant" in w for w in r.warnings)
    assert r.doctors[0].info["profession_code"] == "60"
    midwife = search(sessions, profession="50", specialty="")
    assert names(midwife) == ["Morel"]


def test_the_sql_baseline_ranks_professions_as_the_engine(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        _territory(s)
    for profession, specialty, mt in (
        ("10", "SM40", "Dr Moinard"),
        ("60", "", "Dr Moinard"),
        ("10", "SM54", ""),
    ):
        q = SearchQuery(
            commune_insee="17300", profession=profession, specialty=specialty, treating_doctor=mt
        )
        engine = search(sessions, profession=profession, specialty=specialty, treating_doctor=mt)
        with sessions() as s:
            base = baseline_search(s, q, NOW)
        assert [e for e, _, _ in base] == [d.effecteur_id for d in engine.doctors], q


def test_the_demo_territory_has_nurses_a_midwife_and_a_sunday_dentist(
    demo_sessions: sessionmaker[Session],
) -> None:
    nurses = search(demo_sessions, profession="60")
    assert set(names(nurses)) == {"Rivière", "Pasquier"}
    assert all(d.earliest is not None for d in nurses.doctors)  # weekly hours, as slots
    assert {d.info["name"] for d in nurses.doctors} == {"Camille Rivière", "Julien Pasquier"}
    assert names(search(demo_sessions, profession="50")) == ["Garnaud"]
    dentist = search(demo_sessions, profession="40")
    assert names(dentist) == ["Tardy"]
    assert dentist.doctors[0].info["name"].startswith("Dr ")
    paediatric = search(demo_sessions, profession="10", specialty="SM40")
    assert paediatric.doctors[0].specialty_match == 2
