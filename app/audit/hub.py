"""``audit.list``: the audit trail for the supervisor's desk (read-only intent)."""

from __future__ import annotations

from typing import Any

from app.audit import protocol as audit_protocol
from app.audit.protocol import AuditList
from app.audit.query import AuditQuery, find_reads, read_view
from app.domain.permissions import Action, require
from app.hub.service import FlowService, Unit


def audit_list(u: Unit, i: AuditList) -> dict[str, Any]:
    assert u.actor is not None
    require(u.actor.role, Action.READ_AUDIT)
    rows, more = find_reads(
        u.s,
        AuditQuery(
            dossier=i.dossier or None,
            username=i.username or None,
            since=i.since,
            until=i.until,
            refused_only=i.refused_only,
            before_id=i.before_id,
            limit=i.limit,
        ),
    )
    return {"reads": [read_view(r) for r in rows], "more": more}


#: The intents this extension serves: its whole protocol (app.audit.protocol).
INTENTS = audit_protocol.INTENTS


def install(service: FlowService) -> None:
    service.register(AuditList, audit_list)
