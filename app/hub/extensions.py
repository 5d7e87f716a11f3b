"""Hub extensions: modules that add intents and handlers beyond the core flow.

Each module listed here defines its Intent subclasses (app.hub.protocol.Intent) and
an ``install(service: FlowService) -> None`` that registers their handlers. A module
that is not there yet is skipped, so the list can name work in progress.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

from app.hub.service import FlowService

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = ("app.directory.hub", "app.callback.hub", "app.stats.hub",
                              "app.stats.report_intent", "app.directory.desk_import",
                              "app.directory.agenda_desk", "app.recordings.hub",
                              "app.interop.fhir_hub", "app.audit.hub",
                              "app.interop.hubsante.hub", "app.interop.export_hub",
                              "app.history.hub")


def install_all(service: FlowService) -> list[str]:
    installed = []
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.install(service)
        installed.append(name)
    return installed


async def start_all(hub: Any) -> None:
    """Extensions with background work (the call-back reminders) start with the hub."""
    for name in EXTENSIONS:
        hook = getattr(sys.modules.get(name), "start", None)
        if hook is not None:
            await hook(hub)


async def stop_all(hub: Any) -> None:
    for name in reversed(EXTENSIONS):
        hook = getattr(sys.modules.get(name), "stop", None)
        if hook is not None:
            await hook(hub)
