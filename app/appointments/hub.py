"""The appointment feedback endpoint as a hub extension: off unless ``[rendez_vous]``.

The endpoint (app.appointments.endpoint, HTTPS with mutual TLS) listens once the hub
has started and stops before its writer; what a feedback changes goes through the
hub's writer (app.appointments.hub_sink). aiohttp is imported only by a hub configured
for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.appointments import protocol as appointments_protocol
from app.appointments.board import attach, board
from app.appointments.followup import confirm_held
from app.appointments.models import AppointmentMessage
from app.appointments.protocol import (
    AppointmentAttach,
    AppointmentBoard,
    AppointmentJournal,
    AppointmentPlatformSearch,
    JournalReply,
)
from app.appointments.search_launch import PlatformSearchHandler
from app.appointments.settings import DEFAULT_PENDING_MINUTES, AppointmentSettings
from app.appointments.views import message_view
from app.callback.hub import CallbackExtension
from app.directory import editor_booking
from app.directory.booking import BookingOutcome, hm
from app.directory.hub import DirectoryExtension, agenda_audience, booking_view
from app.directory.models import Effecteur
from app.domain.enums import Role
from app.domain.permissions import Action, require
from app.hub.context import HubContext
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit
from app.hub.visibility import Audience

if TYPE_CHECKING:
    from app.appointments.endpoint import AppointmentEndpoint
    from app.hub.server import Hub

log = logging.getLogger(__name__)


def journal(u: Unit, i: AppointmentJournal) -> JournalReply:
    assert u.actor is not None
    require(u.actor.role, Action.SUPERVISE)
    q = select(AppointmentMessage).order_by(AppointmentMessage.id.desc()).limit(i.limit)
    if i.outcome != "all":
        q = q.where(AppointmentMessage.outcome == i.outcome)
    return {"messages": [message_view(m) for m in u.s.scalars(q)]}


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


class AppointmentsExtension(Extension):
    """The supervisor's journal and board, the platform search launched from a dossier,
    the editors' endpoint, and the watch on bookings still pending at an editor."""

    name = "app.appointments"
    protocol: tuple[type[Intent], ...] = appointments_protocol.INTENTS

    def __init__(
        self,
        service: HubService,
        callback: CallbackExtension | None = None,
        directory: DirectoryExtension | None = None,
    ):
        self.service = service
        #: The features it rides: the reminders' scheduler, the directory's bookings.
        self.callback = callback
        self.directory = directory
        if callback is not None:  # the agenda's booked, come before the OSNP noted the call
            cap = service.settings.targets.weekly_snp_cap
            callback.callbacks.on_appointment.append(partial(confirm_held, weekly_cap=cap))
        self.platform_search = PlatformSearchHandler(service)
        #: While the hub runs: the editors' endpoint (its bound port), the pending watch.
        self.endpoint: AppointmentEndpoint | None = None
        self.watch: Callable[[Unit], list[datetime]] | None = None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        cap = self.service.settings.targets.weekly_snp_cap
        return {
            AppointmentJournal: journal,
            AppointmentPlatformSearch: self.platform_search,
            AppointmentBoard: board,
            AppointmentAttach: partial(attach, weekly_cap=cap),
        }

    async def start(self, ctx: HubContext) -> None:
        settings = ctx.settings.section(AppointmentSettings)
        self._watch_pending(pending_delay(settings))
        if settings is None or self.endpoint is not None:
            return
        from app.appointments.endpoint import AppointmentEndpoint, server_tls
        from app.appointments.hub_sink import HubSink

        endpoint = AppointmentEndpoint(HubSink(ctx), list(settings.editors), base=settings.base)
        tls = server_tls(settings.cert, settings.key, settings.client_ca)
        port = await endpoint.start(settings.host, settings.port, tls)
        self.endpoint = endpoint
        log.info(
            "appointment endpoint listening on https://%s:%s%s/Appointment for %s",
            settings.host,
            port,
            settings.base,
            ", ".join(e.name for e in settings.editors),
        )

    def _watch_pending(self, delay: timedelta) -> None:
        """Bookings made on an editor's page ride the call-back reminders' scheduler: one
        job per due time, armed when the booking is made and again at every start."""
        scheduler = self.callback.scheduler if self.callback is not None else None
        if scheduler is None or self.directory is None or self.watch is not None:
            return
        watch = late_watcher(delay)
        scheduler.watchers.append(watch)
        self.directory.directory.on_pending = lambda created: scheduler.arm(created + delay)
        self.watch = watch
        scheduler.arm(self.service.clock())  # bookings left pending while the hub was down

    async def stop(self, ctx: HubContext) -> None:
        scheduler = self.callback.scheduler if self.callback is not None else None
        if scheduler is not None and self.watch in scheduler.watchers:
            scheduler.watchers.remove(self.watch)
        if self.directory is not None:
            self.directory.directory.on_pending = None
        self.watch = None
        if self.endpoint is not None:
            await self.endpoint.stop()
            self.endpoint = None


def endpoint(hub: Hub) -> AppointmentEndpoint | None:
    """The running endpoint of ``hub`` (its bound port), None when off or stopped."""
    return hub.extension(AppointmentsExtension).endpoint
