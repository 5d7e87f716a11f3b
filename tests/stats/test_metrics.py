"""Metrics computed from the events the hub writes, on streams built for the purpose."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.stats.calendar import Period, local_hour
from app.stats.facts import Facts, load_facts
from app.stats.metrics import call_stats, dossier_stats, group, task_stats
from app.stats.monthly import monthly_table
from tests.stats.room import CONSEIL, Room

JUNE = Period.month(2023, 6)


def facts(room: Room) -> Facts:
    with room.sessions() as s:
        return load_facts(s, JUNE)


def test_a_call_abandoned_while_ringing_on_three_desks_counts_once(room: Room) -> None:
    ref = room.ring("15", desks=("n1", "n1b", "sup"))
    room.clock.tick(42)
    for desk in ("n1", "n1b", "sup"):
        room.hang_up(ref, desk, "caller_gave_up")
    forked = room.ring("116117", desks=("n1", "n1b", "sup"))
    room.clock.tick(12)
    room.answer(forked, "n1b")
    stats = call_stats(facts(room).calls.values())
    assert (stats.offered, stats.answered, stats.abandoned) == (2, 1, 1)
    assert stats.abandon_wait_p50 == 42.0
    assert stats.answered_rate == 0.5


def test_answering_within_30_and_60_seconds_and_wait_percentiles(room: Room) -> None:
    for wait in (10, 30, 45, 90):
        room.dossier(wait=wait)
    room.ring("15")  # still ringing: offered, neither answered nor abandoned
    stats = call_stats(facts(room).calls.values())
    assert (stats.offered, stats.answered, stats.in_progress) == (5, 4, 1)
    assert (stats.within_30s, stats.within_60s) == (2, 3)
    assert stats.within_60s_rate == 0.6
    assert stats.wait_p50 == 37.5 and stats.wait_max == 90.0


def test_calls_per_line_and_per_paris_hour(room: Room) -> None:
    room.clock.at(datetime(2023, 6, 1, 7, 59, 50, tzinfo=UTC))  # 09:59:50 in Paris (CEST)
    room.dossier(line="15", wait=20)
    room.dossier(line="116117", wait=20)
    room.dossier(line="116117", wait=20)
    calls = list(facts(room).calls.values())
    by_line = {k: call_stats(v).offered for k, v in group(calls, lambda c: c.line).items()}
    assert by_line == {"15": 1, "116117": 2}
    by_hour = {k: len(v) for k, v in group(calls, lambda c: local_hour(c.offered_at)).items()}
    assert by_hour == {9: 1, 10: 2}


def test_a_dossier_moved_from_snp_to_amu_counts_where_it_ended(room: Room) -> None:
    moved = room.dossier(priority="P2")
    room.send("mrl", "dossier.take", dossier_id=moved)
    room.send(
        "mrl", "dossier.move_track", dossier_id=moved, track="AMU", reason="douleur thoracique"
    )
    oriented, _task = room.snp_task()
    advice = room.dossier(priority="P2")
    room.send("mrl", "dossier.take", dossier_id=advice)
    room.send("mrl", "dossier.decide", dossier_id=advice, **CONSEIL)
    room.dossier(priority="P1")
    info = room.dossier(priority="P3")
    room.send("n1", "dossier.close", dossier_id=info, reason="information")
    stats = dossier_stats(facts(room).dossiers.values())
    assert stats.by_track == {"AMU": 2, "SNP": 2, "sans filière": 1}
    assert stats.by_track_priority["AMU/P2"] == 1 and stats.moved == 1
    assert (stats.mg_share, stats.amu_share) == (0.5, 0.5)
    assert stats.snp_oriented_consultation == 1 and stats.transformation_rate == 0.5
    assert oriented in facts(room).dossiers


def test_a_task_cancelled_by_a_move_to_amu_is_not_an_outcome(room: Room) -> None:
    d, task = room.snp_task()
    room.send("mrl", "dossier.move_track", dossier_id=d, track="AMU", reason="aggravation")
    f = facts(room)
    stats = task_stats(f.tasks.values(), JUNE)
    assert (stats.created, stats.cancelled, stats.closed, stats.appointments) == (1, 1, 0, 0)
    assert dossier_stats(f.dossiers.values()).transformation_rate is None  # no SNP dossier left


def test_outcomes_reasons_and_time_to_appointment(room: Room) -> None:
    for outcome in ("RDV_MT", "RDV_MT", "RDV_CONFRERE", "RDV_HORS_DISPO"):
        d, task = room.snp_task()
        room.close_task(task, outcome, dossier=d)
    for reason in ("PATIENT_INJOIGNABLE", "AUCUN_CRENEAU", "AUCUN_CRENEAU"):
        d, task = room.snp_task()
        room.close_task(task, "SANS_SOLUTION", reason=reason)
    d, task = room.snp_task()  # still open
    f = facts(room)
    stats = task_stats(f.tasks.values(), JUNE)
    assert stats.created == 8 and stats.closed == 7 and stats.appointments == 4
    assert stats.by_outcome == {
        "RDV_MT": 2,
        "RDV_CONFRERE": 1,
        "RDV_CRENEAU": 0,
        "RDV_HORS_DISPO": 1,
        "SANS_SOLUTION": 3,
    }
    assert stats.no_solution_reasons == {"AUCUN_CRENEAU": 2, "PATIENT_INJOIGNABLE": 1}
    assert stats.to_appointment_p50_hours == round(300 / 3600, 3)


def test_days_without_activity_appear_as_rows_and_days_are_paris_days(room: Room) -> None:
    room.clock.at(datetime(2023, 6, 1, 21, 59, tzinfo=UTC))  # 23:59 Thursday in Paris
    _, task = room.snp_task()  # created 00:02 Friday 2 June, Paris time
    room.clock.at(datetime(2023, 6, 10, 9, 0, tzinfo=UTC))  # a Saturday
    room.snp_task()
    with room.sessions() as s:
        table = monthly_table(s, JUNE)
    days = [r.day for r in table.days()]
    weekdays = [d for d in JUNE.days() if d.weekday() < 5]
    assert days == sorted(weekdays + [date(2023, 6, 10)])
    values = {r.day: r.values["dossiers_osnp"] for r in table.days()}
    assert values[date(2023, 6, 1)] == 0 and values[date(2023, 6, 2)] == 1
    assert values[date(2023, 6, 10)] == 1 and sum(values.values()) == 2
    assert (
        sum(
            r.values["dossiers_osnp"]
            for r in table.rows
            if r.kind == "day" and r.day and r.day.weekday() < 5 and r.day != date(2023, 6, 2)
        )
        == 0
    )
    assert [r.label for r in table.weeks()][0] == "semaine du 29/05"
    assert table.total.values["dossiers_osnp"] == 2
    assert task


def test_snp_visits_per_doctor_and_week_against_the_cap_and_slots_used(room: Room) -> None:
    from app.stats.report import build_report

    doctor, other = room.doctor("17300"), room.doctor("17369")
    free = room.slots(other, datetime(2023, 6, 9, 15, tzinfo=UTC), 3)
    room.clock.at(datetime(2023, 6, 5, 6, 0, tzinfo=UTC))  # Monday
    for _ in range(21):  # one more than the 20 regulated SNP patients a week
        d, task = room.snp_task()
        room.close_task(task, "RDV_HORS_DISPO", dossier=d, beyond=doctor)
    d, task = room.snp_task()
    booked = room.send("osnp", "slot.book", slot_id=free[0], dossier_id=d)
    room.send("osnp", "slot.release", booking_id=booked["booking"]["id"], reason="refus")
    room.close_task(task, "RDV_CRENEAU", dossier=d, slot=free[1])
    with room.sessions() as s:
        report = build_report(s, JUNE)
    weeks = {(w["effecteur_id"], w["week"]): (w["visits"], w["over_cap"]) for w in report.snp_weeks}
    assert weeks == {(doctor, "2023-06-05"): (21, True), (other, "2023-06-05"): (1, False)}
    assert report.slots["Île de Ré"] == (3, 1)  # the released place is free again
    assert report.slots["La Rochelle"] == (0, 0)
    assert report.monthly.total.values["rdv:LR"] == 21
    assert report.monthly.total.values["rdv:RE"] == 1
