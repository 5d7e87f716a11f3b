"""The flow's part of the login snapshot: the dossiers, tasks and calls a user may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Call, Dossier, OsnpTask
from app.domain import rules
from app.domain.enums import DossierStatus, TaskStatus
from app.hub.auth import Principal
from app.hub.payloads import CallView, SnapshotItems
from app.hub.views import UserLookup, call_view, dossier_view, task_view
from app.hub.visibility import can_see_dossier

#: Closed dossiers and done tasks stay on the desks this long.
RECENT = timedelta(hours=12)


def visible_now(s: Session, actor: Principal, now: datetime, users: UserLookup) -> SnapshotItems:
    """The open (or recently closed) dossiers and tasks this user may see, and the calls
    ringing or in progress if the role sees calls."""
    recent = now - RECENT
    dossiers = (
        s.scalars(
            select(Dossier).where(
                (Dossier.status != DossierStatus.CLOSED) | (Dossier.closed_at >= recent)
            )
        )
        .unique()
        .all()
    )
    tasks = {
        t.dossier_id: t
        for t in s.scalars(
            select(OsnpTask).where(
                (OsnpTask.status != TaskStatus.DONE) | (OsnpTask.closed_at >= recent)
            )
        )
        .unique()
        .all()
    }
    visible = [d for d in dossiers if can_see_dossier(actor, d, tasks.get(d.id))]
    seen_ids = {d.id for d in visible}
    calls: list[CallView] = []
    if actor.role in rules.ROLES_SEEING_CALLS:
        calls = [call_view(c) for c in s.scalars(select(Call).where(Call.ended_at.is_(None)))]
    return {
        "dossiers": [dossier_view(d, users) for d in visible],
        "tasks": [task_view(t, users) for t in tasks.values() if t.dossier_id in seen_ids],
        "calls": calls,
    }
