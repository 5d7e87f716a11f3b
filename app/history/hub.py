"""The history intents: ``history.caller`` (on ring), ``dossier.search`` (both reads,
audited row by row) and ``dossier.link`` (the new dossier is the same patient as an
earlier one).

Who: the roles that read dossiers (every desk but the CPTS manager). A role that may not
gets ``forbidden`` whatever it asked (nothing about the dossiers), and the refusal is
audited. Each dossier a reply shows is one granted row in the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from app.audit.query import INTENT_LABELS
from app.db.models import Dossier
from app.domain.enums import DossierStatus, Role
from app.domain.permissions import Action, refusal, roles_for
from app.domain.rules import FlowError, forbid
from app.history import protocol as history_protocol
from app.history.models import DossierLink
from app.history.protocol import (
    CallerReply,
    DossierLinkIntent,
    DossierSearch,
    DossierSummary,
    HistoryCaller,
    LinkReply,
    SearchReply,
)
from app.history.query import Search, caller_history, search_dossiers, summary_view
from app.hub.dossiers import dossier_event, read_dossier
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import Intent, IntentName
from app.hub.read_audit import record_read
from app.hub.service import HubService, Unit

#: The roles that read dossiers (the CPTS manager keeps agendas, never a dossier).
HISTORY_READERS = roles_for(Action.READ_DOSSIERS)  # app.domain.permissions


_IDENTITY = ("patient_last_name", "patient_first_name", "patient_sex", "patient_birth_date",
             "patient_age")  # fmt: skip


class HistoryHandlers:
    def __init__(self, service: HubService):
        self.service = service

    def _require_reader(self, u: Unit, intent: IntentName) -> None:
        assert u.actor is not None
        denied = refusal(u.actor.role, Action.READ_DOSSIERS)
        if denied is None:
            return
        with self.service.sessions.begin() as s:  # the refusal outlives the rolled-back unit
            record_read(s, u.actor, u.actor.desk, None, str(intent), granted=False,
                        detail="forbidden", at=u.now)  # fmt: skip
        raise denied

    def _audited(self, u: Unit, rows: list[Dossier], intent: IntentName) -> list[DossierSummary]:
        assert u.actor is not None
        links: dict[int, int] = {}
        if rows:
            found = u.s.execute(
                select(DossierLink.dossier_id, DossierLink.same_patient_as_id).where(
                    DossierLink.dossier_id.in_([d.id for d in rows])
                )
            )
            links = {row[0]: row[1] for row in found}
        for d in rows:
            record_read(u.s, u.actor, u.actor.desk, d.id, str(intent), at=u.now)
        return [summary_view(d, links.get(d.id)) for d in rows]

    def caller(self, u: Unit, i: HistoryCaller) -> CallerReply:
        self._require_reader(u, IntentName.HISTORY_CALLER)
        cfg = self.service.settings.history
        found = caller_history(u.s, i.number, u.now, cfg.days, i.limit)
        return {
            "number": i.number,
            "days": cfg.days,
            "count": found.count,
            "frequent": found.count >= cfg.frequent_after,
            "frequent_after": cfg.frequent_after,
            "dossiers": self._audited(u, found.dossiers, IntentName.HISTORY_CALLER),
        }

    def search(self, u: Unit, i: DossierSearch) -> SearchReply:
        self._require_reader(u, IntentName.DOSSIER_SEARCH)
        q = Search(phone=i.phone.strip(), name=i.name, number=i.number,
                   since=i.since, until=i.until)  # fmt: skip
        if q.empty():
            raise FlowError(
                "invalid", "indiquez un numéro, un nom, un n° de dossier ou une période"
            )
        if q.since and q.until and q.since > q.until:
            raise FlowError("invalid", "la période finit avant de commencer")
        rows = search_dossiers(u.s, q, i.limit)
        return {"dossiers": self._audited(u, rows, IntentName.DOSSIER_SEARCH),
                "more": len(rows) == i.limit}  # fmt: skip

    def link(self, u: Unit, i: DossierLinkIntent) -> LinkReply:
        self._require_reader(u, IntentName.DOSSIER_LINK)
        assert u.actor is not None
        if i.dossier_id == i.same_patient_as:
            raise FlowError("invalid", "un dossier ne peut pas être rattaché à lui-même")
        d = read_dossier(u, i.dossier_id, IntentName.DOSSIER_LINK)
        if d.status == DossierStatus.CLOSED:
            raise FlowError("invalid_state", f"le dossier {d.number} est clôturé")
        if not (u.actor.role is Role.SUPERVISEUR or d.owner_id == u.actor.user_id):
            raise forbid(f"rattachement refusé : le dossier {d.number} n'est pas le vôtre")
        earlier = u.s.get(Dossier, i.same_patient_as)
        if earlier is None:
            raise FlowError("not_found", f"dossier {i.same_patient_as} introuvable")
        record_read(u.s, u.actor, u.actor.desk, earlier.id, str(IntentName.DOSSIER_LINK),
                    at=u.now)  # fmt: skip
        link = u.s.get(DossierLink, d.id)
        if link is None:
            link = DossierLink(dossier_id=d.id, same_patient_as_id=earlier.id,
                               linked_by_id=u.actor.user_id, linked_at=u.now)  # fmt: skip
            u.s.add(link)
        else:
            link.same_patient_as_id, link.linked_by_id = earlier.id, u.actor.user_id
            link.linked_at = u.now
        changed: dict[str, Any] = {}
        for name in _IDENTITY:
            value = getattr(earlier, name)
            if value not in (None, "") and getattr(d, name) in (None, ""):
                setattr(d, name, value)
                changed[name] = value.isoformat() if isinstance(value, date) else value
        dossier_event(u, EventName.DOSSIER_UPDATED, d, fields=changed,
                                   same_patient_as=earlier.id)  # fmt: skip
        return {"dossier_id": d.id, "same_patient_as": earlier.id, "fields": changed}


#: How the audit trail names these reads.
LABELS: dict[str, str] = {
    IntentName.HISTORY_CALLER: "antériorités de l'appelant (résumé)",
    IntentName.DOSSIER_SEARCH: "recherche de dossiers (résumé)",
    IntentName.DOSSIER_LINK: "rattachement au même patient",
}


class HistoryExtension(Extension):
    """The caller's history, the dossier search and the link to the same patient."""

    name = "app.history"
    protocol: tuple[type[Intent], ...] = history_protocol.INTENTS

    def __init__(self, service: HubService):
        INTENT_LABELS.update(LABELS)
        self.history = HistoryHandlers(service)

    def handlers(self) -> Mapping[type[Intent], Handler]:
        h = self.history
        return {HistoryCaller: h.caller, DossierSearch: h.search, DossierLinkIntent: h.link}


def install(service: HubService) -> HistoryExtension:
    """The history on a bare service (tools and tests)."""
    return install_one(service, HistoryExtension(service))
