"""The appointment feedback endpoint as a hub extension: off unless ``[rendez_vous]``.

The endpoint (app.appointments.endpoint, HTTPS with mutual TLS) listens once the hub
has started and stops before its writer; what a feedback changes goes through the
hub's writer (app.appointments.hub_sink). aiohttp is imported only by a hub configured
for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field
from sqlalchemy import select

from app.appointments.board import attach, board
from app.appointments.models import AppointmentMessage
from app.appointments.protocol import AppointmentAttach, AppointmentBoard, AppointmentPlatformSearch
from app.appointments.search_launch import PlatformSearchHandler
from app.appointments.settings import AppointmentSettings
from app.appointments.views import message_view
from app.domain.permissions import Action, require
from app.hub.protocol import Intent, IntentName
from app.hub.service import FlowService, Unit

if TYPE_CHECKING:
    from app.appointments.endpoint import AppointmentEndpoint

log = logging.getLogger(__name__)


class AppointmentJournal(Intent):
    """The editors' messages, newest first (refused ones by default): supervisor only."""

    type: Literal[IntentName.APPOINTMENT_JOURNAL] = IntentName.APPOINTMENT_JOURNAL
    outcome: Literal["refused", "all"] = "refused"
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    read_only: ClassVar[bool] = True


def journal(u: Unit, i: AppointmentJournal) -> dict[str, Any]:
    assert u.actor is not None
    require(u.actor.role, Action.SUPERVISE)
    q = select(AppointmentMessage).order_by(AppointmentMessage.id.desc()).limit(i.limit)
    if i.outcome != "all":
        q = q.where(AppointmentMessage.outcome == i.outcome)
    return {"messages": [message_view(m) for m in u.s.scalars(q)]}


def install(service: FlowService) -> None:
    """The supervisor's view of the journal and the platform search launched from a
    dossier; the endpoint itself is background work."""
    service.register(AppointmentJournal, journal)
    service.register(AppointmentPlatformSearch, PlatformSearchHandler(service))
    service.register(AppointmentBoard, board)
    service.register(AppointmentAttach, attach)


async def start(hub: Any) -> None:
    settings: AppointmentSettings | None = hub.settings.appointments
    if settings is None:
        return
    from app.appointments.endpoint import AppointmentEndpoint, server_tls
    from app.appointments.hub_sink import HubSink

    endpoint = AppointmentEndpoint(HubSink(hub), list(settings.editors), base=settings.base)
    tls = server_tls(settings.cert, settings.key, settings.client_ca)
    port = await endpoint.start(settings.host, settings.port, tls)
    hub.appointments = endpoint
    log.info(
        "appointment endpoint listening on https://%s:%s%s/Appointment for %s",
        settings.host,
        port,
        settings.base,
        ", ".join(e.name for e in settings.editors),
    )


def endpoint(hub: Any) -> AppointmentEndpoint | None:
    """The running endpoint of ``hub`` (its bound port), None when off or stopped."""
    running: AppointmentEndpoint | None = getattr(hub, "appointments", None)
    return running


async def stop(hub: Any) -> None:
    running = endpoint(hub)
    if running is not None:
        await running.stop()
        hub.appointments = None
