"""Hub extensions: the one contract through which a feature plugs into the kernel.

A feature is one :class:`Extension` object, built by the room's composition (app.room)
with what it needs (the kernel service, the other features it works with). It exposes

- :meth:`Extension.handlers`: each of its intents and the handler that applies it in a
  unit of work (app.hub.service);
- :meth:`Extension.batchable`: which of those intents only write rows, so that group
  commit may apply several of them in one transaction;
- :meth:`Extension.projectors`: called inside each unit's transaction with the events it
  wrote (statistics facts, the Hub Santé outbox);
- :meth:`Extension.snapshot_parts`: what a user may see of it, in the snapshot a desk
  receives at login (the flow: dossiers, tasks, calls);
- :meth:`Extension.desk_handlers`: intents answered on the desk's connection itself,
  outside any unit of work (the kernel's session intents: login, resume, ping…);
- :meth:`Extension.start` / :meth:`Extension.stop`: its background work, started with the
  hub and stopped before it, given a typed :class:`~app.hub.context.HubContext`.

Its state lives on the object. The hub's wire (app.hub.protocol.Wire) is what its
extensions answer, registered explicitly, not what happens to be imported. Loading is
strict: an intent of a feature's protocol (``Extension.protocol``) left without a
handler stops the hub at start with the intent's name, instead of answering desks
``internal`` later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Never, TypeVar, cast

from app.hub import protocol as p
from app.hub.connection import DeskConnection
from app.hub.context import HubContext
from app.hub.service import HubService, Projector, SnapshotPart, Unit

E = TypeVar("E", bound="Extension")

#: A handler takes its own intent class: ``Never`` accepts a handler of any intent
#: (``Callable`` cannot say "the class of the key"); the kernel calls it with that one.
#: It returns its reply's body: the TypedDict its protocol module registers for the intent.
Handler = Callable[[Unit, Never], Mapping[str, Any]]


@dataclass(frozen=True)
class DeskHandler:
    """An intent answered on the desk's connection, not in a unit of work."""

    handle: Callable[[DeskConnection, Never], Awaitable[None]]
    #: Answered before the desk has logged in (login itself, ping, PSC's steps).
    before_login: bool = False

    async def serve(self, conn: DeskConnection, intent: p.Intent) -> None:
        """Answer ``intent``, of the class this handler was registered for."""
        handle = cast(Callable[[DeskConnection, p.Intent], Awaitable[None]], self.handle)
        await handle(conn, intent)


class ExtensionError(RuntimeError):
    """The hub cannot start with this extension: the message names what is missing."""


class Extension:
    """One feature of the hub. Subclasses override what they provide."""

    #: The feature's name in messages (its package).
    name: str = "extension"
    #: The intents of its protocol module it answers (``app/<feature>/protocol.py``'s
    #: ``INTENTS``): the strict check refuses the hub if one has no handler.
    protocol: tuple[type[p.Intent], ...] = ()

    def handlers(self) -> Mapping[type[p.Intent], Handler]:
        return {}

    def batchable(self) -> frozenset[type[p.Intent]]:
        """Intents whose handlers only write rows: group commit may apply them together."""
        return frozenset()

    def projectors(self) -> Sequence[Projector]:
        return ()

    def snapshot_parts(self) -> Sequence[SnapshotPart]:
        """Its part of the snapshot a desk receives at login and on every reconnect."""
        return ()

    def desk_handlers(self) -> Mapping[type[p.Intent], DeskHandler]:
        return {}

    async def start(self, ctx: HubContext) -> None:
        """Background work, started with the hub (in its loop)."""

    async def stop(self, ctx: HubContext) -> None:
        """Stop what :meth:`start` started; called before the hub stops."""


class Installed:
    """The extensions of one service (one hub): installed, then started and stopped."""

    def __init__(self, service: HubService, extensions: Sequence[Extension]):
        self.service = service
        self.extensions = list(extensions)
        self.desk: dict[type[p.Intent], DeskHandler] = {}
        for ext in self.extensions:
            for intent, handler in ext.handlers().items():
                service.register(intent, handler, batchable=intent in ext.batchable())
            for projector in ext.projectors():
                if projector not in service.projectors:
                    service.projectors.append(projector)
            service.snapshot_parts.extend(ext.snapshot_parts())
            for intent, desk in ext.desk_handlers().items():
                if intent in self.desk or service.handles(intent):
                    raise ExtensionError(f"{ext.name} : {intent.__name__} a déjà un traitement")
                self.desk[intent] = desk

    def check(self) -> None:
        """Strict loading: every intent of each feature's protocol has a handler."""
        orphans = sorted(
            f"{p.intent_name(c)} ({ext.name})"
            for ext in self.extensions
            for c in ext.protocol
            if c not in self.desk and not self.service.handles(c)
        )
        if orphans:
            raise ExtensionError("intentions sans traitement : " + ", ".join(orphans))

    def wire(self) -> p.Wire:
        """The intents this hub speaks, registered explicitly: those its extensions
        answer. An intent no extension answers is refused as ``unknown_type``."""
        return p.Wire(
            *(tuple(ext.handlers()) + tuple(ext.desk_handlers()) for ext in self.extensions)
        )

    def get(self, kind: type[E]) -> E:
        """The installed extension of this class (a test, or a tool, looks into it)."""
        for ext in self.extensions:
            if isinstance(ext, kind):
                return ext
        raise KeyError(f"no {kind.__name__} installed")

    async def start(self, ctx: HubContext) -> None:
        for ext in self.extensions:
            await ext.start(ctx)

    async def stop(self, ctx: HubContext) -> None:
        for ext in reversed(self.extensions):
            await ext.stop(ctx)


def install(service: HubService, extensions: Sequence[Extension]) -> Installed:
    """Install every extension on ``service``, then check every intent has a handler."""
    installed = Installed(service, extensions)
    installed.check()
    return installed


def install_one(service: HubService, extension: E) -> E:
    """Install one extension on a bare service (a tool, a test), without the strict
    check of the whole room: what it needs of other features is installed beside it."""
    Installed(service, [extension])
    return extension
