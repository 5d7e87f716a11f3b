"""Decisions and appointments counted by the profession / specialty the decision named:
the facts the hub projects equal those ``sasdesk stats rebuild`` folds from the log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from app.hub.auth import Principal
from app.stats.calendar import Period
from app.stats.models import StatDossier
from app.stats.report import build_report
from app.stats.report_intent import install as install_report
from tests.callback.conftest import NOW, Desks, counted_room, osnp_task, plan
from tests.callback.test_plan_professions import _others
from tests.command import sasdesk
from tests.stats.test_projection import assert_same, folded, stored

NOVEMBER = Period.month(NOW.year, NOW.month)


def _accept_first_slot(desks: Desks, task_id: int) -> dict[str, Any]:
    p = plan(desks, task_id)
    first = next(t for t in p["targets"] if t["kind"] == "CRENEAU")
    reply: dict[str, Any] = desks.osnp.send(
        "callback.attempt", target_id=first["id"], result="ACCEPTED"
    )
    return reply


def _counts(sessions: sessionmaker[Session]) -> dict[str, tuple[int, int, int, int]]:
    with sessions() as s:
        report = build_report(s, NOVEMBER)
    return {
        key: (p.decisions, p.appointments, p.honoured, p.no_show)
        for key, p in report.by_profession.items()
    }


def test_decisions_and_appointments_by_profession_live_and_rebuilt(
    sessions: sessionmaker[Session], people: dict[str, Principal], db_url: str
) -> None:
    service, desks, clock = counted_room(sessions, people)
    _others(sessions)
    gp = _accept_first_slot(desks, osnp_task(desks, ref="c1"))
    paed = _accept_first_slot(desks, osnp_task(desks, ref="c2", wanted={"specialty": "SM40"}))
    nurse = _accept_first_slot(desks, osnp_task(desks, ref="c3", wanted={"profession": "60"}))
    unsolved = osnp_task(desks, ref="c4", wanted={"profession": "60"})
    desks.osnp.send(
        "task.close", task_id=unsolved, outcome="SANS_SOLUTION", no_solution_reason="AUCUN_CRENEAU"
    )
    osnp_task(desks, ref="c5", wanted={"profession": "40"})  # still searching
    clock.advance(hours=8)
    for reply, status in ((gp, "HONOURED"), (paed, "NO_SHOW"), (nurse, "HONOURED")):
        desks.osnp.send(
            "callback.appointment.status", appointment_id=reply["appointment"]["id"], status=status
        )
    live = _counts(sessions)
    assert live == {
        "10/SM54": (1, 1, 1, 0),
        "10/SM40": (1, 1, 0, 1),
        "60": (2, 1, 1, 0),
        "40": (1, 0, 0, 0),
    }
    with sessions() as s:
        table = next(t for t in build_report(s, NOVEMBER).tables() if "profession" in t.title)
    assert [r[0] for r in table.rows] == [
        "Médecin généraliste",
        "Pédiatre",
        "Infirmier",
        "Chirurgien-dentiste",
        "Total",
    ]
    assert table.rows[-1][1:] == [5, 3, 2, 1]
    # The supervisor's statistics tab lists the report's tables (stats.report).
    install_report(service)
    month = f"{NOW.year}-{NOW.month:02d}"
    tables = desks.sup.send("stats.report", month=month)["report"]["tables"]
    shown = next(t for t in tables if t["title"] == "Orientations et RDV par profession")
    assert shown["rows"][1] == ["Pédiatre", 1, 1, 0, 1]
    projected = stored(sessions)
    assert_same(projected, folded(sessions))
    # The command line empties the fact tables and folds the whole log again.
    with sessions.begin() as s:
        s.execute(update(StatDossier).values(profession=None, specialty=None))
        s.execute(delete(StatDossier).where(StatDossier.dossier_id > 2))
    assert _counts(sessions) != live
    done = sasdesk("stats", "rebuild", "--db", db_url)
    assert done.returncode == 0, done.stderr
    assert _counts(sessions) == live
    assert_same(stored(sessions), projected)
