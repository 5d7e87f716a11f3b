"""The appointment feedback endpoint as a hub extension: off unless ``[rendez_vous]``.

The endpoint (app.appointments.endpoint, HTTPS with mutual TLS) listens once the hub
has started and stops before its writer; what a feedback changes goes through the
hub's writer (app.appointments.hub_sink). aiohttp is imported only by a hub configured
for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field
from sqlalchemy import select

from app.appointments.board import attach, board
from app.appointments.followup import confirm_held
from app.appointments.models import AppointmentMessage
from app.appointments.protocol import AppointmentAttach, AppointmentBoard, AppointmentPlatformSearch
from app.appointments.search_launch import PlatformSearchHandler
from app.appointments.settings import DEFAULT_PENDING_MINUTES, AppointmentSettings
from app.appointments.views import message_view
from app.callback.hub import handlers_of as callback_handlers
from app.callback.reminders import ReminderScheduler
from app.directory import editor_booking
from app.directory.booking import BookingOutcome, hm
from app.directory.hub import agenda_audience, booking_view
from app.directory.hub import handlers_of as directory_handlers
from app.directory.models import Effecteur
from app.domain.enums import Role
from app.domain.permissions import Action, require
from app.hub.events import EventName
from app.hub.protocol import Intent, IntentName
from app.hub.service import FlowService, Unit
from app.hub.visibility import Audience

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
    cap = service.settings.targets.weekly_snp_cap
    service.register(AppointmentJournal, journal)
    service.register(AppointmentPlatformSearch, PlatformSearchHandler(service))
    service.register(AppointmentBoard, board)
    service.register(AppointmentAttach, partial(attach, weekly_cap=cap))
    callback = callback_handlers(service)
    if callback is not None:  # the agenda's booked, come before the OSNP noted the call
        callback.on_appointment.append(partial(confirm_held, weekly_cap=cap))


def pending_delay(settings: AppointmentSettings | None) -> timedelta:
    minutes = settings.pending_minutes if settings is not None else DEFAULT_PENDING_MINUTES
    return timedelta(minutes=minutes)


def late_watcher(delay: timedelta) -> Callable[[Unit], list[datetime]]:
    """The reminders' watcher for bookings made at an editor and still pending: past
    ``delay`` the OSNP who booked (and the supervisors) are told, once."""

    def watch(u: Unit) -> list[datetime]:
        for booking in editor_booking.overdue(u.s, now=u.now, delay=delay):
            booking.reminded_at = u.now
            effecteur = u.s.get(Effecteur, booking.effecteur_id)
            assert effecteur is not None
            o = BookingOutcome(booking, None, effecteur, 0, [])
            _, d, task = agenda_audience(u, o)
            users = {booking.booked_by_id} if booking.booked_by_id is not None else set()
            phone = effecteur.phone_secretary or effecteur.phone_direct or "numéro inconnu"
            waited = int((u.now - booking.created_at).total_seconds() // 60)
            u.emit(
                EventName.DOSSIER_AGENDA_LATE,
                Audience(roles={Role.SUPERVISEUR}, users=users),
                dossier=d,
                task=task,
                booking=booking_view(o),
                waited_minutes=waited,
                phone=phone,
                message=(
                    f"RDV {effecteur.display_name} le {hm(booking.appointment_at)} toujours en "
                    f"attente de l'agenda après {waited} min : vérifiez l'agenda de l'éditeur "
                    f"ou appelez le médecin ({phone})"
                ),
            )
        return editor_booking.next_due(u.s, delay=delay)

    return watch


async def start(hub: Any) -> None:
    settings: AppointmentSettings | None = hub.settings.appointments
    _watch_pending(hub, pending_delay(settings))
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


def _watch_pending(hub: Any, delay: timedelta) -> None:
    """Bookings made on an editor's page ride the call-back reminders' scheduler: one
    job per due time, armed when the booking is made and again at every start."""
    scheduler: ReminderScheduler | None = getattr(hub, "callback_scheduler", None)
    directory = directory_handlers(hub.service)
    if scheduler is None or directory is None:
        return
    watch = late_watcher(delay)
    scheduler.watchers.append(watch)
    directory.on_pending = lambda created: scheduler.arm(created + delay)
    hub.appointment_watch = watch
    scheduler.arm(hub.service.clock())  # bookings left pending while the hub was down


async def stop(hub: Any) -> None:
    scheduler: ReminderScheduler | None = getattr(hub, "callback_scheduler", None)
    watch = getattr(hub, "appointment_watch", None)
    if scheduler is not None and watch in scheduler.watchers:
        scheduler.watchers.remove(watch)
    directory = directory_handlers(hub.service)
    if directory is not None:
        directory.on_pending = None
    hub.appointment_watch = None
    running = endpoint(hub)
    if running is not None:
        await running.stop()
        hub.appointments = None
