"""Seed 004's per-commune table: decisions where the patient lives, appointments where
the patient is seen (the booked doctor's practice), neighbours grouped by department."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from app.stats.calendar import Period
from app.stats.communes import commune_table
from tests.stats import seed_004_sas92_june as seed
from tests.stats.room import Room


def test_the_sas92_june_table_is_reproduced(room_92: Room) -> None:
    room = room_92
    room.clock.at(datetime(2023, 6, 5, 6, 0, tzinfo=UTC))
    seen_at: list[str] = []
    for _pc, _name, insee, _dec, seen in seed.ROWS:
        seen_at += [insee] * seen
    for _label, insee, seen in seed.OUTSIDE:
        seen_at += [insee] * seen
    doctors = {insee: room.doctor(insee) for insee in set(seen_at)}
    slots = {
        insee: room.slots(
            doctors[insee], datetime(2023, 6, 30, 16, tzinfo=UTC), seen_at.count(insee), capacity=5
        )
        for insee in doctors
    }
    tasks = []
    for _pc, _name, insee, decisions, _seen in seed.ROWS:
        for _ in range(decisions):
            tasks.append(room.snp_task(insee=insee))
    assert len(tasks) == seed.TOTAL_DECISIONS and len(seen_at) == seed.TOTAL_APPOINTMENTS
    # The first patient (seen in Antony) was first booked in Neuilly, given back.
    first_dossier, _ = tasks[0]
    assert seen_at[0] == "92002"
    reply = room.send("osnp", "slot.book", slot_id=slots["92051"][-1], dossier_id=first_dossier)
    room.send("osnp", "slot.release", booking_id=reply["booking"]["id"], reason="patient refuse")
    for i, (dossier, task) in enumerate(tasks):
        if i < len(seen_at):
            where = seen_at[i]
            if i % 10 == 3:  # some doctors took the patient beyond their published slots
                room.close_task(task, "RDV_HORS_DISPO", dossier=dossier, beyond=doctors[where])
                slots[where].pop()
            else:
                room.close_task(task, "RDV_CRENEAU", dossier=dossier, slot=slots[where].pop(0))
        else:
            room.close_task(task, "SANS_SOLUTION", reason="PATIENT_INJOIGNABLE")
    with room.sessions() as s:
        rows = commune_table(s, Period.month(2023, 6))
    got = {r.key: (r.decisions, r.appointments) for r in rows}
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _pc, _name, insee, decisions, seen in seed.ROWS:
        expected[insee][0] += decisions  # Meudon's two postal codes make one commune
        expected[insee][1] += seen
    for _label, insee, seen in seed.OUTSIDE:
        if seen:
            expected[f"dep:{insee[:2]}"][1] += seen
    assert got == {k: tuple(v) for k, v in expected.items()}
    assert got["92048"] == (8, 4) and got["92047"] == (0, 0)  # Meudon; Marnes, no activity
    assert sum(r.decisions for r in rows) == seed.TOTAL_DECISIONS
    assert sum(r.appointments for r in rows) == seed.TOTAL_APPOINTMENTS
    assert [r.name for r in rows if r.key == "dep:75"] == ["Hors territoire – département 75"]
