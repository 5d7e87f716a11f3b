"""Hub extensions: modules that add intents, handlers, projectors and background work.

An extension is a module named in ``EXTENSIONS`` that names the intents it serves
(``INTENTS``, models of its feature's protocol module) and

- ``install(service: FlowService)``: registers a handler for each of its intents (and
  its projectors, appended to ``service.projectors``);
- optionally ``async start(hub)`` and ``async stop(hub)``: its background work, started
  with the hub and stopped before it (the call-back reminders).

Loading is strict: a module that cannot be imported, an extension without ``install``,
or an intent (of any module) left without a handler stops the hub at start with the
module's or the intent's name, instead of answering desks ``internal`` later.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.hub import protocol as p
from app.hub.service import FlowService

EXTENSIONS: tuple[str, ...] = (
    "app.directory.hub",
    "app.callback.hub",
    "app.stats.hub",
    "app.stats.report_intent",
    "app.directory.desk_import",
    "app.directory.agenda_desk",
    "app.recordings.hub",
    "app.interop.fhir_hub",
    "app.audit.hub",
    "app.interop.hubsante.hub",
    "app.interop.export_hub",
    "app.history.hub",
    "app.appointments.hub",
)

#: Answered by the server itself (app.hub.server), not by the flow service.
SERVER_INTENTS: tuple[type[p.Intent], ...] = p.SESSION_INTENTS

Hook = Callable[[Any], Awaitable[object]]


class ExtensionError(RuntimeError):
    """The hub cannot start with this extension: the message names what is missing."""


@dataclass(frozen=True)
class Extension:
    name: str
    install: Callable[[FlowService], object]
    intents: tuple[type[p.Intent], ...]
    start: Hook | None = None
    stop: Hook | None = None

    @classmethod
    def load(cls, name: str) -> Extension:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ExtensionError(f"extension {name} introuvable : {exc}") from exc
        install = getattr(module, "install", None)
        if not callable(install):
            raise ExtensionError(f"extension {name} sans fonction install(service)")
        intents = getattr(module, "INTENTS", None)
        if not isinstance(intents, tuple):
            raise ExtensionError(f"extension {name} sans INTENTS (les intentions qu'elle sert)")
        return cls(
            name, install, intents, getattr(module, "start", None), getattr(module, "stop", None)
        )


def install_all(service: FlowService, names: tuple[str, ...] | None = None) -> list[Extension]:
    """Load and install every extension, then check that every intent has a handler."""
    loaded = [Extension.load(name) for name in (EXTENSIONS if names is None else names)]
    for ext in loaded:
        ext.install(service)
        missing = [c.__name__ for c in ext.intents if not service.handles(c)]
        if missing:
            raise ExtensionError(
                f"extension {ext.name} : pas de traitement pour {', '.join(missing)}"
            )
    orphans = sorted(
        f"{p.intent_name(c)} ({c.__module__})"
        for c in hub_wire().intents  # every extension's, installed here or not
        if c not in SERVER_INTENTS and not service.handles(c)
    )
    if orphans:
        raise ExtensionError("intentions sans traitement : " + ", ".join(orphans))
    service.extensions = loaded
    return loaded


def wire_of(extensions: list[Extension]) -> p.Wire:
    """The hub's wire: the session's and the flow's intents, and those the extensions serve."""
    return p.Wire(SERVER_INTENTS, p.FLOW_INTENTS, *(ext.intents for ext in extensions))


def hub_wire(names: tuple[str, ...] | None = None) -> p.Wire:
    """The wire of a hub with these extensions (all by default), without a service: what
    the documentation and the tools check messages against."""
    return wire_of([Extension.load(name) for name in (EXTENSIONS if names is None else names)])


async def start_all(hub: Any) -> None:
    """Extensions with background work (the call-back reminders) start with the hub."""
    for ext in hub.service.extensions:
        if ext.start is not None:
            await ext.start(hub)


async def stop_all(hub: Any) -> None:
    for ext in reversed(hub.service.extensions):
        if ext.stop is not None:
            await ext.stop(hub)
