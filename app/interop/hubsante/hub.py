"""The Hub Santé connector as a hub extension: off unless ``HubSettings.hubsante`` is
set. Installs the supervisor's view of the journal (``hubsante.journal``) on every
hub; the connector itself starts with a hub that is configured for it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.domain.rules import forbid
from app.hub.context import HubContext
from app.hub.extensions import Extension, Handler, Projector
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit, WrittenEvent
from app.interop.hubsante.models import HsJournal
from app.interop.protocol import HubSanteJournal, HubSanteJournalReply

if TYPE_CHECKING:  # their modules load only on a hub configured for the Hub Santé
    from app.interop.hubsante.connector import Connector
    from app.interop.hubsante.outbox import CaseProjector

log = logging.getLogger(__name__)


def journal(u: Unit, i: HubSanteJournal) -> HubSanteJournalReply:
    assert u.actor is not None
    if u.actor.role is not Role.SUPERVISEUR:
        raise forbid("seul le superviseur consulte le journal du Hub Santé")
    # Imported here: the connector's modules (hubsante-model, JSON schemas) cost half a
    # second of every hub's start, and only a hub configured for the Hub Santé uses them.
    from app.interop.hubsante.inbox import journal_view

    q = select(HsJournal).order_by(HsJournal.id.desc()).limit(i.limit)
    if i.status != "all":
        q = q.where(HsJournal.status == i.status)
    return {"messages": [journal_view(j) for j in u.s.scalars(q)]}


class HubSanteExtension(Extension):
    """The journal's view on every hub; the connector on a hub configured for it."""

    name = "app.interop.hubsante"
    protocol: tuple[type[Intent], ...] = (HubSanteJournal,)

    def __init__(self, service: HubService):
        self.settings = service.settings.hubsante
        #: While the hub runs: the connector, and the projector that queues each dossier
        #: change for it inside the unit's transaction.
        self.connector: Connector | None = None
        self.cases: CaseProjector | None = None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {HubSanteJournal: journal}

    def projectors(self) -> Sequence[Projector]:
        return (self.project,) if self.settings is not None else ()

    def project(self, s: Session, events: list[WrittenEvent]) -> None:
        if self.cases is not None:  # the outbox fills while the connector runs
            self.cases(s, events)

    async def start(self, ctx: HubContext) -> None:
        settings = self.settings
        if settings is None or self.connector is not None:
            return
        from app.interop.hubsante.connector import Connector
        from app.interop.hubsante.outbox import CaseProjector

        connector = Connector(ctx.service, settings, ctx.run_in_writer, ctx.broadcast)
        self.cases = CaseProjector(settings, connector.wake)
        self.connector = connector
        await connector.start()
        log.info("Hub Santé connector started as %s", settings.client_id)

    async def stop(self, ctx: HubContext) -> None:
        if self.connector is not None:
            await self.connector.stop()
            self.connector = None
            self.cases = None
