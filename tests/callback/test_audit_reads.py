"""The call-back read paths that show a dossier's content are in the audit of reads:
scripts with the patient's details, the text sent to the patient, the letter (export)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.audit import AuditRead
from tests.callback.conftest import Desks, Territory, plan, target
from tests.callback.test_after import accepted


def trail(sessions: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    with sessions() as s:
        rows = s.scalars(select(AuditRead).order_by(AuditRead.id))
        return [(r.username, r.intent, r.granted) for r in rows]


def test_scripts_patient_text_and_letter_are_audited(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    task_id, _reply = accepted(desks)
    with sessions() as s:
        before = len(list(s.scalars(select(AuditRead))))
    desks.osnp.send("callback.script", target_id=target(plan(desks, task_id), "MT")["id"])
    desks.osnp.send("callback.script", task_id=task_id)
    desks.osnp.send("callback.patient_text", task_id=task_id)
    desks.mrl.send("callback.letter", task_id=task_id)
    assert trail(sessions)[before:] == [
        ("osnp", "callback.script", True),
        ("osnp", "callback.script", True),
        ("osnp", "callback.patient_text", True),
        ("mrl", "callback.letter", True),
    ]


def test_a_role_without_tasks_is_refused_and_the_refusal_audited(
    desks: Desks, territory: Territory, sessions: sessionmaker[Session]
) -> None:
    task_id, _reply = accepted(desks)
    err = desks.n1.refused("callback.patient_text", task_id=task_id)
    assert err.code == "forbidden"  # the role has no access to searches (permission table)
    assert trail(sessions)[-1] == ("n1", "callback.patient_text", False)
    assert desks.n1.refused("callback.letter", task_id=task_id).code == "forbidden"
    assert trail(sessions)[-1] == ("n1", "callback.letter", False)
