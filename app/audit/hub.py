"""``audit.list``: the audit trail for the supervisor's desk (read-only intent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from app.audit.query import AuditQuery, find_reads, read_view
from app.domain.permissions import Action, require
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import EntityId, Intent, IntentName
from app.hub.service import HubService, Unit


class AuditList(Intent):
    """Who read dossiers: filter by dossier (id or number), user, period; newest first."""

    type: Literal[IntentName.AUDIT_LIST] = IntentName.AUDIT_LIST
    dossier: Annotated[str, StringConstraints(max_length=32, strip_whitespace=True)] = ""
    username: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    refused_only: bool = False
    before_id: EntityId | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200
    read_only: ClassVar[bool] = True


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


class AuditExtension(Extension):
    """The supervisors' view of the read audit."""

    name = "app.audit"

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {AuditList: audit_list}


def install(service: HubService) -> AuditExtension:
    """The audit list on a bare service (tools and tests)."""
    return install_one(service, AuditExtension())
