"""Booking across desks: the last place goes to one desk only; the weekly SNP cap."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.directory.booking import book_slot
from app.directory.models import Booking, Slot
from app.domain.rules import FlowError
from app.flow.service import FlowService
from tests.directory.builders import doctor, slot
from tests.directory.conftest import NOW
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier
from tests.rows import stored

H = timedelta(hours=1)


def test_second_desk_gets_a_clear_refusal_for_the_last_place(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000101", "Renaud")
        x = slot(s, e, NOW + 8 * H, minutes=60, capacity=2, booked=1)
    with sessions.begin() as s:
        book_slot(s, x.id, now=NOW, user_id=None)
    with pytest.raises(FlowError) as refused, sessions.begin() as s:
        book_slot(s, x.id, now=NOW, user_id=None)
    assert refused.value.code == "conflict"
    assert "vient d'être réservé par un autre poste (2/2)" in refused.value.message
    with sessions() as s:
        assert stored(s, Slot, x.id).booked == 2
        assert s.scalar(select(func.count(Booking.id))) == 1


def test_many_desks_booking_the_same_range_never_exceed_capacity(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000102", "Perrin")
        x = slot(s, e, NOW + 8 * H, minutes=75, capacity=5)
    desks = 16
    barrier = threading.Barrier(desks)
    outcomes: list[str] = []
    lock = threading.Lock()

    def desk() -> None:
        engine = make_engine(db_url)  # its own connection pool: like another hub process
        maker = make_sessionmaker(engine)
        barrier.wait()
        try:
            with maker.begin() as s:
                book_slot(s, x.id, now=NOW, user_id=None)
            result = "ok"
        except FlowError as exc:
            result = exc.code
        finally:
            engine.dispose()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=desk) for _ in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * (desks - 5) + ["ok"] * 5
    with sessions() as s:
        assert stored(s, Slot, x.id).booked == 5
        assert s.scalar(select(func.count(Booking.id)).where(Booking.slot_id == x.id)) == 5


def test_weekly_cap_is_counted_and_warned(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000103", "Girard")
        ranges = [slot(s, e, NOW + (4 + d * 24) * H, minutes=120, capacity=10) for d in range(3)]
    counts, warnings = [], []
    for i in range(21):
        with sessions.begin() as s:
            o = book_slot(s, ranges[i // 10].id, now=NOW, user_id=None)
            counts.append(o.weekly_snp)
            warnings.append([w for w in o.warnings if "SNP" in w or "plafond" in w])
    assert counts == list(range(1, 22))
    assert warnings[18] == []
    assert "plafond hebdomadaire atteint" in warnings[19][0]
    assert "au-delà de 20" in warnings[20][0]


def test_hub_intents_book_broadcast_and_refresh(dir_service: FlowService, people: dict) -> None:
    n1, mrl, osnp, osnp2 = (Actor(dir_service, people[k]) for k in ("n1", "mrl", "osnp", "osnp2"))
    did = snp_dossier(n1, mrl)
    # the dossier says: a 3-year-old in La Rochelle with fever
    mrl.send("dossier.decide", dossier_id=did, **ORIENT_48H)
    found = osnp.send("directory.search", dossier_id=did)["search"]
    assert found["query"]["commune_insee"] == "17300" and found["query"]["types"] == ["cabinet"]
    target = next(d for d in found["doctors"] if d["earliest"])
    first = next(x for day in target["days"] for x in day["slots"])
    booked = osnp.send("slot.book", slot_id=first["id"], dossier_id=did)
    assert osnp.events() == ["slot.booked"]
    assert booked["weekly_snp"] >= 1
    event = osnp.emitted[0]
    assert event.audience.admits(people["osnp2"]) and event.audience.admits(people["mrl"])
    assert not event.audience.admits(people["n1"])
    if first["capacity"] == 1:
        refused = osnp2.refused("slot.book", slot_id=first["id"])
        assert refused.code == "conflict"
    again = osnp2.send("directory.search", dossier_id=did, limit=200)["search"]
    ids = [x["id"] for d in again["doctors"] for day in d["days"] for x in day["slots"]]
    assert first["capacity"] > 1 or first["id"] not in ids
    counts = {d["effecteur_id"]: d["weekly_snp"] for d in again["doctors"]}
    assert counts[target["effecteur_id"]] == target["weekly_snp"] + 1 == booked["weekly_snp"]
    osnp.send("slot.release", booking_id=booked["booking"]["id"], reason="patient guéri")
    assert osnp.events() == ["slot.released"]
    after = osnp2.send("directory.search", dossier_id=did, limit=200)["search"]
    counts = {d["effecteur_id"]: d["weekly_snp"] for d in after["doctors"]}
    assert counts[target["effecteur_id"]] == target["weekly_snp"]


def test_roles(dir_service: FlowService, people: dict) -> None:
    n1, osnp, sup = (Actor(dir_service, people[k]) for k in ("n1", "osnp", "sup"))
    assert n1.refused("directory.search", commune_insee="17300").code == "forbidden"
    start = (NOW + 30 * H).isoformat()
    end = (NOW + 31 * H).isoformat()
    assert (
        osnp.refused("agenda.slot.create", effecteur_id=1, start=start, end=end).code == "forbidden"
    )
    created = sup.send(
        "agenda.slot.create", effecteur_id=1, start=start, end=end, capacity=5, weeks=2
    )
    assert [x["places"] for x in created["slots"]] == ["0/5", "0/5"]
    assert sup.events() == ["agenda.changed"]
    assert sup.send("agenda.slot.cancel", slot_id=created["slots"][1]["id"])
    away = sup.send(
        "agenda.unavailability.add", effecteur_id=1, start=start, end=end, reason="formation"
    )
    assert osnp.refused("slot.book", slot_id=created["slots"][0]["id"]).code == "conflict"
    sup.send("agenda.unavailability.remove", unavailability_id=away["unavailability"]["id"])
    assert osnp.send("slot.book", slot_id=created["slots"][0]["id"])["slot"]["places"] == "1/5"


def test_cpts_manager_keeps_agendas_but_does_not_book(
    dir_service: FlowService, sessions: sessionmaker[Session], password_hash: str
) -> None:
    from app.db.models import User
    from app.domain.enums import Role
    from app.hub.auth import principal_of

    with sessions.begin() as s:
        user = User(
            username="cpts",
            display_name="Gestionnaire CPTS",
            role=str(Role.GESTIONNAIRE_CPTS),
            password_hash=password_hash,
        )
        s.add(user)
        s.flush()
        manager = Actor(dir_service, principal_of(user))
    start, end = (NOW + 30 * H).isoformat(), (NOW + 31 * H).isoformat()
    made = manager.send("agenda.slot.create", effecteur_id=2, start=start, end=end, capacity=3)
    assert manager.events() == ["agenda.changed"]
    slot_id = made["slots"][0]["id"]
    assert manager.refused("slot.book", slot_id=slot_id).code == "forbidden"
    assert manager.refused("directory.search", commune_insee="17300").code == "forbidden"
