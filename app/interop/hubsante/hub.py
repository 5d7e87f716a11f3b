"""The Hub Santé connector as a hub extension: off unless ``HubSettings.hubsante`` is
set. Installs the supervisor's view of the journal (``hubsante.journal``) on every
hub; the connector itself starts with a hub that is configured for it."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from app.domain.enums import Role
from app.domain.rules import forbid
from app.hub.protocol import Intent
from app.hub.service import FlowService, Unit
from app.interop.hubsante.models import HsJournal
from app.interop.protocol import HubSanteJournal

log = logging.getLogger(__name__)


def journal(u: Unit, i: HubSanteJournal) -> dict[str, Any]:
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


#: The intents this extension serves (of app.interop.protocol).
INTENTS: tuple[type[Intent], ...] = (HubSanteJournal,)


def install(service: FlowService) -> None:
    service.register(HubSanteJournal, journal)


async def start(hub: Any) -> None:
    settings = hub.settings.hubsante
    if settings is None:
        return
    from app.interop.hubsante.connector import Connector
    from app.interop.hubsante.outbox import CaseProjector

    connector = Connector(hub.service, settings, hub.run_in_writer, hub.broadcast)
    projector = CaseProjector(settings, connector.wake)
    hub.service.projectors.append(projector)
    hub.hubsante = connector
    await connector.start()
    log.info("Hub Santé connector started as %s", settings.client_id)


async def stop(hub: Any) -> None:
    connector = getattr(hub, "hubsante", None)
    if connector is not None:
        await connector.stop()
        hub.hubsante = None
