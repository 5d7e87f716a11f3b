"""``audit.list``: the audit trail for the supervisor's desk (read-only intent)."""

from __future__ import annotations

from collections.abc import Mapping

from app.audit import protocol as audit_protocol
from app.audit.protocol import AuditList, AuditReply
from app.audit.query import AuditQuery, find_reads, read_view
from app.domain.permissions import Action, require
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit


def audit_list(u: Unit, i: AuditList) -> AuditReply:
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


class AuditExtension(Extension):
    """The supervisors' view of the read audit."""

    name = "app.audit"
    protocol: tuple[type[Intent], ...] = audit_protocol.INTENTS

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {AuditList: audit_list}


def install(service: HubService) -> AuditExtension:
    """The audit list on a bare service (tools and tests)."""
    return install_one(service, AuditExtension())
