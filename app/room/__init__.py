"""The room's hub: the kernel (app.hub) with the room's features, built here.

This package sits above the features and composes them: it builds each feature's
extension object, hands each the others it works with (the call-back workflow closes
the flow's tasks; the appointments ride the call-back's scheduler and the directory's
bookings), and gives the list to the kernel's hub. The kernel imports no feature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from app.appointments import protocol as appointments_protocol
from app.appointments.hub import AppointmentsExtension
from app.audit import protocol as audit_protocol
from app.audit.hub import AuditExtension
from app.callback import protocol as callback_protocol
from app.callback.hub import CallbackExtension
from app.config.settings import HubSettings
from app.db.types import utcnow
from app.directory import protocol as directory_protocol
from app.directory.agenda_desk import AgendaDeskExtension
from app.directory.desk_import import DeskImportExtension
from app.directory.hub import DirectoryExtension
from app.flow import protocol as flow_protocol
from app.flow.hub import FlowExtension
from app.history import protocol as history_protocol
from app.history.hub import HistoryExtension
from app.hub import payloads, server
from app.hub import protocol as p
from app.hub.extensions import Extension, Installed
from app.hub.service import HubService
from app.interop import protocol as interop_protocol
from app.interop.export_hub import ExportExtension
from app.interop.fhir_hub import FhirHub
from app.interop.hubsante.hub import HubSanteExtension
from app.recordings import protocol as recordings_protocol
from app.recordings.hub import RecordingsExtension
from app.stats import protocol as stats_protocol
from app.stats.hub import StatsExtension
from app.stats.report_intent import ReportExtension


def features(service: HubService) -> list[Extension]:
    """Every feature of the room, built on ``service``, in the order they start."""
    flow = FlowExtension(service)
    directory = DirectoryExtension(service)
    callback = CallbackExtension(service, flow.flow, directory=directory.directory)
    return [
        flow,
        directory,
        callback,
        StatsExtension(),
        ReportExtension(service),
        DeskImportExtension(service),
        AgendaDeskExtension(),
        RecordingsExtension(service),
        FhirHub(service),
        AuditExtension(),
        HubSanteExtension(service),
        ExportExtension(service),
        HistoryExtension(service),
        AppointmentsExtension(service, callback, directory),  # after what it rides
    ]


def install_all(service: HubService) -> Installed:
    """Every feature on a bare service (tools and tests that drive it without a hub).

    Not checked strictly: the session intents are the hub's own (app.hub.session_intents).
    """
    return Installed(service, features(service))


def hub_wire() -> p.Wire:
    """The wire a room's hub speaks (the session's intents and every feature's), built
    without a database: what the documentation, tools and tests check messages against."""
    installed = install_all(HubService(sessionmaker()))
    return p.Wire(
        p.SESSION_INTENTS,
        *(tuple(ext.handlers()) for ext in installed.extensions),
        replies=(payloads.SESSION_REPLIES, *(m.REPLIES for m in PROTOCOLS)),
        events=(payloads.SESSION_EVENTS, *(m.EVENTS for m in PROTOCOLS)),
    )


#: The features' protocol modules: their replies' and events' types join the hub's wire.
PROTOCOLS = (
    flow_protocol,
    appointments_protocol,
    audit_protocol,
    callback_protocol,
    directory_protocol,
    history_protocol,
    interop_protocol,
    recordings_protocol,
    stats_protocol,
)


class Hub(server.Hub):
    """The kernel's hub serving the room's features."""

    def __init__(
        self,
        db_url: str,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        demo: server.RoomDemo | None = None,
        clock: Callable[[], datetime] = utcnow,
        settings: HubSettings | None = None,
    ):
        super().__init__(
            db_url, host, port, demo=demo, clock=clock, settings=settings, features=features
        )


__all__ = ["Hub", "features", "install_all"]
