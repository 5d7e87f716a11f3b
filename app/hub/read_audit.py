"""The read audit's seam in the kernel: every read of a dossier's content leaves a row.

Every hub path that shows a dossier's content to a desk calls :func:`record_read` in
its own unit of work (so the row commits with the reply, or neither), and turns a
refusal into :class:`ReadRefused`, which :class:`app.hub.service.HubService` records
in a transaction of its own (the refused unit is rolled back) before answering
``not_found``. The kernel's own read path (``app.hub.dossiers.read_dossier``) and the
features' (exports, searches, history, recordings) use the same functions; features
import them through ``app.audit``, which also answers the audit queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.audit import AuditRead
from app.db.models import Dossier
from app.db.types import utcnow
from app.domain.rules import FlowError
from app.hub.auth import Principal

__all__ = ["ReadRefused", "record_read", "record_read_once", "refused_read"]


def record_read(
    session: Session,
    principal: Principal | None,
    desk: str,
    dossier_id: int | None,
    intent: str,
    *,
    granted: bool = True,
    detail: str = "",
    at: datetime | None = None,
) -> AuditRead:
    """Append one row to the audit trail, in ``session``'s transaction."""
    number = (
        session.scalar(select(Dossier.number).where(Dossier.id == dossier_id))
        if dossier_id is not None
        else None
    )
    row = AuditRead(
        at=at or utcnow(),
        user_id=principal.user_id if principal else None,
        username=principal.username if principal else "",
        role=str(principal.role) if principal else "",
        desk=(desk or "")[:255],
        dossier_id=dossier_id,
        dossier_number=number,
        intent=intent[:64],
        granted=granted,
        detail=detail[:255],
    )
    session.add(row)
    return row


def record_read_once(
    session: Session,
    principal: Principal,
    dossier_id: int,
    intents: tuple[str, ...],
    at: datetime,
    within: timedelta = timedelta(hours=1),
) -> AuditRead | None:
    """Record ``intents[0]`` unless one of ``intents`` was recorded for this user and
    dossier within ``within`` (a recording streamed chunk by chunk is one listening)."""
    seen = session.scalar(
        select(AuditRead.id)
        .where(
            AuditRead.dossier_id == dossier_id,
            AuditRead.user_id == principal.user_id,
            AuditRead.intent.in_(intents),
            AuditRead.granted.is_(True),
            AuditRead.at >= at - within,
        )
        .limit(1)
    )
    if seen is not None:
        return None
    return record_read(session, principal, principal.desk, dossier_id, intents[0], at=at)


class ReadRefused(FlowError):
    """A read the role may not make (or of no such dossier): answered like ``not_found``,
    recorded as a refusal."""

    def __init__(self, error: FlowError, dossier_id: int, intent: str):
        super().__init__(error.code, error.message)
        self.dossier_id = dossier_id
        self.intent = intent


def refused_read(error: FlowError, dossier_id: int, intent: str) -> ReadRefused:
    return ReadRefused(error, dossier_id, intent)
