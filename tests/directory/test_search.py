"""Ranking, filters, time bands, ranges and the hors-disponibilité list."""

from __future__ import annotations

import gc
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.directory.booking import book_slot
from app.directory.engine import DirectoryIndex
from app.directory.query import (
    TIER_CONFRERE,
    TIER_MT,
    TIER_NONE,
    TIER_OTHER,
    TIER_SAS,
    SearchQuery,
    SearchResult,
)
from tests.directory.builders import AYTRE, LA_ROCHELLE, SURGERES, doctor, leave, slot
from tests.directory.conftest import NOW

H = timedelta(hours=1)


def search(
    sessions: sessionmaker[Session], index: DirectoryIndex | None = None, **kw: Any
) -> SearchResult:
    index = index or DirectoryIndex()
    with sessions() as s:
        index.sync(s, NOW)
    kw.setdefault("commune_insee", "17300")
    return index.search(SearchQuery(**kw), NOW)


def names(result: SearchResult) -> list[str]:
    return [d.info["last_name"] for d in result.doctors]


def test_ranking_mt_then_confrere_then_sas_with_slots_then_others_then_without(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        mt = doctor(
            s, "10000000001", "Moinard", first="Nathalie", address="22 rue Saint-Louis", at=SURGERES
        )  # far away, no slot: still first
        conf = doctor(s, "10000000002", "Jarry", address="22 Rue Saint-Louis", at=SURGERES)
        sas_late = doctor(s, "10000000003", "Aubert", at=AYTRE)
        sas_early = doctor(s, "10000000004", "Bodin", at=AYTRE)
        other = doctor(s, "10000000005", "Caillaud", sas=False)
        doctor(s, "10000000006", "Durand")  # no slot
        slot(s, sas_late, NOW + 5 * H)
        slot(s, sas_early, NOW + 2 * H)
        slot(s, other, NOW + 1 * H)  # earliest of all, but not a SAS participant
        slot(s, conf, NOW + 30 * H)
        del mt
    r = search(sessions, treating_doctor="Dr Moinard")
    assert names(r) == ["Moinard", "Jarry", "Bodin", "Aubert", "Caillaud", "Durand"]
    assert [d.tier for d in r.doctors] == [
        TIER_MT,
        TIER_CONFRERE,
        TIER_SAS,
        TIER_SAS,
        TIER_OTHER,
        TIER_NONE,
    ]
    # Without the MT in the dossier, the far-away Surgères practice is out of radius.
    assert names(search(sessions)) == ["Bodin", "Aubert", "Caillaud", "Durand"]


def test_mt_by_rpps_and_homonyms(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        doctor(s, "10000000011", "Martin", first="Marie")
        doctor(s, "10000000012", "Martin", first="Paul", address="8 quai Duperré")
    r = search(sessions, treating_doctor="10000000012")
    assert [(d.info["first_name"], d.tier) for d in r.doctors][0] == ("Paul", TIER_MT)
    r = search(sessions, treating_doctor="Dr Marie MARTIN")
    assert [(d.info["first_name"], d.tier, d.mt_ambiguous) for d in r.doctors] == [
        ("Marie", TIER_MT, False),
        ("Paul", TIER_NONE, False),
    ]
    r = search(sessions, treating_doctor="Dr Martin")
    assert {(d.tier, d.mt_ambiguous) for d in r.doctors} == {(TIER_MT, True)}
    r = search(sessions, treating_doctor="Dr Inconnu")
    assert any("médecin traitant absent" in w for w in r.warnings)


def test_child_brings_paediatrics_first_within_the_tier(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        gp = doctor(s, "10000000021", "Garnier")
        paed = doctor(s, "10000000022", "Petit", specialty="Pédiatrie", at=AYTRE)
        slot(s, gp, NOW + H)
        slot(s, paed, NOW + 6 * H)
    assert names(search(sessions, patient_age=3)) == ["Petit", "Garnier"]
    assert names(search(sessions, patient_age=40)) == ["Garnier", "Petit"]


def test_time_bands_types_and_required_skills(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        a = doctor(s, "10000000031", "Abel", skills=["sutures"])
        b = doctor(s, "10000000032", "Brun")
        slot(s, a, NOW + 3 * H)  # 0-4 h
        slot(s, b, NOW + 30 * H, type_="teleconsultation")  # 24-48 h
        slot(s, b, NOW - H)  # already started: never offered
    r = search(sessions, bands=("0-4",))
    assert [(d.info["last_name"], d.tier) for d in r.doctors] == [
        ("Abel", TIER_SAS),
        ("Brun", TIER_NONE),
    ]
    r = search(sessions, bands=("24-48", "48-72"))
    assert [d.info["last_name"] for d in r.doctors if d.earliest] == ["Brun"]
    r = search(sessions, types=("teleconsultation",))
    assert [d.info["last_name"] for d in r.doctors if d.earliest] == ["Brun"]
    assert names(search(sessions, skills=("Sutures",))) == ["Abel"]


def test_ranges_show_their_places_and_full_ones_disappear(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000041", "Lemoine")
        open_range = slot(s, e, NOW + 8 * H, minutes=75, capacity=5, booked=0)
        slot(s, e, NOW + 2 * H, minutes=60, capacity=3, booked=3)  # full
    r = search(sessions)
    (hit,) = r.doctors
    shown = [x for day in hit.days for x in day["slots"]]
    assert [(x["id"], x["places"]) for x in shown] == [(open_range.id, "0/5")]
    assert hit.earliest == NOW + 8 * H


def test_hors_disponibilite_listed_only_when_nothing_fits(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        yes = doctor(s, "10000000051", "Ysern", beyond=True)
        doctor(s, "10000000052", "Zola", beyond=False)
        far = doctor(s, "10000000053", "Faure", beyond=True, at=SURGERES)
        del yes, far
    r = search(sessions)
    assert r.with_slots == 0 and [d.info["last_name"] for d in r.beyond_slots] == ["Ysern"]
    with sessions.begin() as s:
        other = doctor(s, "10000000054", "Roux")
        slot(s, other, NOW + H)
    r = search(sessions)
    assert r.with_slots == 1 and r.beyond_slots == []


def test_unavailability_hides_doctor_and_slots(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        a = doctor(s, "10000000061", "Arnaud", beyond=True)
        slot(s, a, NOW + 30 * H)
        leave(s, a, NOW - H, NOW + 2 * H)  # away this morning
        b = doctor(s, "10000000062", "Blanc")
        slot(s, b, NOW + 3 * H)
        slot(s, b, NOW + 5 * H)
        leave(s, b, NOW + 2 * H, NOW + 4 * H)
    r = search(sessions)
    assert names(r) == ["Blanc"]  # Arnaud is away now
    assert r.doctors[0].earliest == NOW + 5 * H


def test_index_follows_bookings_made_elsewhere(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000071", "Vidal")
        first = slot(s, e, NOW + H)
        slot(s, e, NOW + 2 * H)
    index = DirectoryIndex()
    assert search(sessions, index).doctors[0].earliest == NOW + H
    with sessions.begin() as s:  # another desk (or hub process) books the first slot
        book_slot(s, first.id, now=NOW, user_id=None)
    with sessions() as s:
        assert index.sync(s, NOW) == 1  # one slot row reloaded, not the directory
    assert index.search(SearchQuery(commune_insee="17300"), NOW).doctors[0].earliest == NOW + 2 * H


def test_default_radius_follows_department_density(sessions: sessionmaker[Session]) -> None:
    assert search(sessions, commune_insee="17300").radius_km == 20.0  # Charente-Maritime
    assert search(sessions, commune_insee="59350").radius_km == 10.0  # Lille (Nord)
    assert search(sessions, commune_insee="92012").radius_km == 5.0  # Boulogne-Billancourt
    assert search(sessions, commune_insee="17300", radius_km=3.0).radius_km == 3.0


def test_demo_directory_search_from_la_rochelle(demo_sessions: sessionmaker[Session]) -> None:
    r = search(demo_sessions, patient_age=4, treating_doctor="Dr Moinard")
    assert r.doctors[0].info["last_name"] == "Moinard" and r.doctors[0].tier == TIER_MT
    tiers = [d.tier for d in r.doctors]
    assert tiers == sorted(tiers) and r.with_slots > 5
    assert LA_ROCHELLE  # the patient's commune is the demo's main town


def test_long_running_index_forgets_past_slots(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000081", "Texier")
        slot(s, e, NOW + H)
        slot(s, e, NOW + 20 * H)
    index = DirectoryIndex()
    with sessions() as s:
        index.sync(s, NOW)
        assert index.slot_count() == 2
        index.sync(s, NOW + 14 * H)  # 13 h after the first slot ended
        assert index.slot_count() == 1
    later = index.search(SearchQuery(commune_insee="17300"), NOW + 14 * H)
    assert later.doctors[0].earliest == NOW + 20 * H


def test_the_first_load_collects_garbage_only_on_the_main_thread(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the hub inside the desk's process, a collection on a hub thread would free
    the desk's Qt objects off the GUI thread (ui/main_thread_gc.py): the index's first
    load freezes its objects but collects only when it runs on the main thread."""
    with sessions.begin() as s:
        slot(s, doctor(s, "10000000072", "Roux"), NOW + H)
    collected_on: list[str] = []
    real_collect = gc.collect

    def spy(*_: int) -> int:
        collected_on.append(threading.current_thread().name)
        return 0

    monkeypatch.setattr(gc, "collect", spy)
    try:
        worker = threading.Thread(target=search, args=(sessions,), name="hub-writer")
        worker.start()
        worker.join()
        assert collected_on == []
        search(sessions)
        assert collected_on == [threading.main_thread().name]
    finally:
        gc.unfreeze()
        monkeypatch.setattr(gc, "collect", real_collect)
