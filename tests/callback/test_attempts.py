"""Attempts and their outcomes: retries, refusals, call-backs, and an accepted call
that books, closes the task with the right outcome and leaves the events to count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.callback.models import Reminder
from app.db.models import Event
from app.directory.models import Booking, Slot
from app.hub.protocol import ProtocolError
from tests.callback.conftest import NOW, Desks, FakeClock, Territory, osnp_task, plan, target


def test_mt_unreachable_retry_then_colleague_refuses_then_slot_accepted(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    task_id = osnp_task(desks, "Dr Claire Vasseur", patient_first_name="Zoé")
    p = plan(desks, task_id)
    mt, confrere = target(p, "MT"), target(p, "CONFRERE")

    # A path on the desk is not a recording the hub keeps: refused, nothing noted.
    with pytest.raises(ProtocolError) as refused:
        desks.osnp.send(
            "callback.attempt",
            target_id=mt["id"],
            result="NO_ANSWER",
            call_ref="out-1",
            recording_path="/var/rec/out-1.wav",
        )
    assert refused.value.code == "invalid_message" and "recording_path" in str(refused.value)
    reply = desks.osnp.send(
        "callback.attempt",
        target_id=mt["id"],
        result="NO_ANSWER",
        number="0600000000",
        call_ref="out-1",
        duration_seconds=31.5,
    )
    assert reply["target"]["status"] == "RETRY"
    assert reply["target"]["retry_at"] == (NOW + timedelta(minutes=15)).isoformat()
    assert reply["attempt"]["duration_seconds"] == 31.5
    assert reply["attempt"]["recording_path"] == ""  # until the desk's upload is stored
    assert reply["plan"]["next_target_id"] == confrere["id"]  # the retry is not due yet
    assert desks.osnp.events() == ["callback.attempt"]

    clock.advance(minutes=2)
    err = desks.osnp.refused("callback.attempt", target_id=confrere["id"], result="REFUSED")
    assert err.code == "invalid_message"  # a refusal says why
    reply = desks.osnp.send(
        "callback.attempt",
        target_id=confrere["id"],
        result="REFUSED",
        refusal_reason="COMPLET",
        note="pas avant jeudi",
    )
    assert reply["target"]["status"] == "REFUSED"
    err = desks.osnp.refused("callback.attempt", target_id=confrere["id"], result="ACCEPTED")
    assert err.code == "invalid_state"  # a refused target is done

    sas = target(p, "CRENEAU")
    clock.advance(minutes=3)
    reply = desks.osnp.send(
        "callback.attempt", target_id=sas["id"], result="ACCEPTED", duration_seconds=95
    )
    appt = reply["appointment"]
    assert appt["outcome"] == "RDV_CRENEAU"
    assert appt["at"] == sas["slot_start"] and appt["status"] == "BOOKED"
    assert appt["doctor"] == "Dr Inès Barbier" and "3 rue du Fort" in appt["place"]
    assert desks.osnp.events() == [
        "callback.attempt",
        "slot.booked",
        "callback.appointment",
        "task.closed",
        "dossier.closed",
    ]
    closed = desks.osnp.emitted[3].message
    assert closed["data"]["outcome"] == "RDV_CRENEAU"
    assert closed["task"]["appointment_with"] == "Dr Inès Barbier"
    assert "Zoé" in reply["patient_text"]["message"]
    assert "carnet de santé" in reply["patient_text"]["message"]  # a 3-year-old
    assert reply["billing"]["total_eur"] == 15
    with sessions() as s:
        booked = s.get(Slot, sas["slot_id"])
        assert booked is not None and booked.booked == 1
        booking = s.scalar(select(Booking).where(Booking.slot_id == sas["slot_id"]))
        assert booking is not None and booking.dossier_id is not None
        # the MT's retry reminder is cancelled: the task is over
        pending = s.scalars(
            select(Reminder).where(Reminder.cancelled_at.is_(None), Reminder.fired_at.is_(None))
        ).all()
        assert pending == []
        kinds = [
            e.type
            for e in s.scalars(select(Event).where(Event.task_id == task_id).order_by(Event.seq))
        ]
    assert kinds.count("callback.attempt") == 3
    err = desks.osnp.refused("callback.attempt", target_id=mt["id"], result="NO_ANSWER")
    assert err.code == "invalid_state"  # the task is closed


@pytest.mark.parametrize(
    ("kind", "outcome", "booked"),
    [
        ("MT", "RDV_MT", False),
        ("CONFRERE", "RDV_CONFRERE", True),
        ("HORS_DISPO", "RDV_HORS_DISPO", True),
    ],
)
def test_accepting_target_closes_with_its_outcome(
    desks: Desks,
    territory: Territory,
    sessions: sessionmaker[Session],
    kind: str,
    outcome: str,
    booked: bool,
) -> None:
    task_id = osnp_task(desks, "Dr Vasseur")
    t = target(plan(desks, task_id), kind)
    err = desks.osnp.refused("callback.attempt", target_id=t["id"], result="ACCEPTED")
    assert err.code == "invalid_message"  # no time given, no published slot
    at = NOW + timedelta(hours=26)
    reply = desks.osnp.send(
        "callback.attempt",
        target_id=t["id"],
        result="ACCEPTED",
        appointment={"at": at.isoformat(), "place": "au cabinet"},
    )
    assert reply["appointment"]["outcome"] == outcome
    assert reply["appointment"]["is_treating_doctor"] is (kind == "MT")
    with sessions() as s:
        bookings = s.scalars(select(Booking).where(Booking.effecteur_id == t["effecteur_id"])).all()
    assert bool(bookings) is booked  # the MT's own patient is not an SNP booking
    snp = reply["billing"]["lines"][0]
    assert snp["code"] == "SNP" and snp["applies"] is (kind != "MT")
    task = desks.osnp.send("dossier.get", dossier_id=reply["plan"]["appointment"]["dossier_id"])[
        "task"
    ]
    assert task["status"] == "DONE" and task["outcome"] == outcome


def test_call_back_asked_for_a_time(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks)
    mt = target(plan(desks, task_id), "MT")
    err = desks.osnp.refused(
        "callback.attempt",
        target_id=mt["id"],
        result="CALL_BACK",
        call_back_at=(NOW - timedelta(minutes=1)).isoformat(),
    )
    assert err.code == "invalid_message"
    at = NOW.replace(hour=13, minute=30)  # 14:30 in Paris
    reply = desks.osnp.send(
        "callback.attempt", target_id=mt["id"], result="CALL_BACK", call_back_at=at.isoformat()
    )
    assert reply["target"]["status"] == "CALL_BACK"
    assert reply["target"]["retry_at"] == at.isoformat()
    data = desks.osnp.emitted[0].message["data"]
    assert data["result"] == "CALL_BACK" and data["call_back_at"] == at.isoformat()


def test_pdsa_only_from_20h_and_emergency_only_on_the_regulators_decision(
    desks: Desks, territory: Territory, clock: FakeClock
) -> None:
    task_id = osnp_task(desks)
    p = plan(desks, task_id)
    pdsa, urg = target(p, "PDSA"), target(p, "URGENCES")
    err = desks.osnp.refused("callback.attempt", target_id=pdsa["id"], result="ACCEPTED")
    assert err.code == "invalid_state" and "20h00" in err.message
    err = desks.osnp.refused("callback.attempt", target_id=urg["id"], result="ACCEPTED")
    assert err.code == "invalid_message" and "régulateur" in err.message
    clock.now = NOW.replace(hour=19, minute=5)  # 20:05 in Paris
    reply = desks.osnp.send("callback.attempt", target_id=pdsa["id"], result="ACCEPTED")
    assert "appointment" not in reply
    closed = [e.message for e in desks.osnp.emitted if e.message["event"] == "task.closed"][0]
    assert closed["data"]["outcome"] == "SANS_SOLUTION"
    assert closed["data"]["no_solution_reason"] == "REORIENTE_PDSA"


def test_appointment_status_follows_to_the_end(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    task_id = osnp_task(desks)
    sas = target(plan(desks, task_id), "CRENEAU")
    appt = desks.osnp.send("callback.attempt", target_id=sas["id"], result="ACCEPTED")[
        "appointment"
    ]
    err = desks.osnp.refused(
        "callback.appointment.status", appointment_id=appt["id"], status="HONOURED"
    )
    assert err.code == "invalid_state"  # not yet
    reply = desks.osnp.send(
        "callback.appointment.status",
        appointment_id=appt["id"],
        status="CONFIRMED",
        note="secrétariat prévenu",
    )
    assert reply["appointment"]["status"] == "CONFIRMED"
    assert desks.osnp.events() == ["callback.appointment_status"]
    # another OSNP follows it up; the MRL may not change it
    err = desks.mrl.refused(
        "callback.appointment.status", appointment_id=appt["id"], status="CANCELLED"
    )
    assert err.code == "forbidden"
    reply = desks.osnp2.send(
        "callback.appointment.status",
        appointment_id=appt["id"],
        status="CANCELLED",
        note="le patient va mieux",
    )
    assert reply["appointment"]["status"] == "CANCELLED"
    assert desks.osnp2.events() == ["slot.released", "callback.appointment_status"]
    with sessions() as s:
        freed = s.get(Slot, sas["slot_id"])
        assert freed is not None and freed.booked == 0  # the place is back for others
    err = desks.osnp.refused(
        "callback.appointment.status", appointment_id=appt["id"], status="HONOURED"
    )
    assert err.code == "invalid_state"


def test_cancelling_after_the_place_was_freed_frees_nothing_more(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    """The place was given back from the directory first: the cancellation is still
    recorded (it used to be refused, « réservation déjà annulée »), nothing is freed twice."""
    task_id = osnp_task(desks)
    sas = target(plan(desks, task_id), "CRENEAU")
    appt = desks.osnp.send("callback.attempt", target_id=sas["id"], result="ACCEPTED")[
        "appointment"
    ]
    desks.sup.send("slot.release", booking_id=appt["booking_id"], reason="libéré à la main")
    reply = desks.osnp.send(
        "callback.appointment.status", appointment_id=appt["id"], status="CANCELLED"
    )
    assert reply["appointment"]["status"] == "CANCELLED"
    assert desks.osnp.events() == ["callback.appointment_status"]  # no second slot.released
    with sessions() as s:
        freed = s.get(Slot, sas["slot_id"])
        assert freed is not None and freed.booked == 0
        booking = s.get(Booking, appt["booking_id"])
        assert booking is not None and booking.release_reason == "libéré à la main"


def test_honoured_and_no_show(desks: Desks, territory: Territory, clock: FakeClock) -> None:
    ids = []
    for n in range(2):
        task_id = osnp_task(desks, ref=f"call-{n}")
        t = target(plan(desks, task_id), "HORS_DISPO")
        at = NOW + timedelta(hours=3 + n)
        ids.append(
            desks.osnp.send(
                "callback.attempt",
                target_id=t["id"],
                result="ACCEPTED",
                appointment={"at": at.isoformat()},
            )["appointment"]["id"]
        )
    clock.advance(hours=6)
    assert (
        desks.osnp.send("callback.appointment.status", appointment_id=ids[0], status="HONOURED")[
            "appointment"
        ]["status"]
        == "HONOURED"
    )
    assert (
        desks.osnp.send("callback.appointment.status", appointment_id=ids[1], status="NO_SHOW")[
            "appointment"
        ]["status"]
        == "NO_SHOW"
    )


def test_only_the_owning_osnp_or_the_supervisor_records_calls(
    desks: Desks, territory: Territory
) -> None:
    task_id = osnp_task(desks)
    mt = target(plan(desks, task_id), "MT")
    assert (
        desks.osnp2.refused("callback.attempt", target_id=mt["id"], result="BUSY").code
        == "forbidden"
    )
    assert (
        desks.mrl.refused("callback.attempt", target_id=mt["id"], result="BUSY").code == "forbidden"
    )
    # N1 has no access to RDV searches at all: refused for the role, before any lookup.
    assert (
        desks.n1.refused("callback.attempt", target_id=mt["id"], result="BUSY").code == "forbidden"
    )
    reply = desks.sup.send("callback.attempt", target_id=mt["id"], result="BUSY")
    assert reply["target"]["status"] == "RETRY"
    # the MRL follows the plan without changing it
    assert (
        desks.mrl.send("callback.plan", task_id=task_id)["plan"]["attempts"][0]["result"] == "BUSY"
    )
