"""What the hub hands its extensions when it starts and stops them: a typed context.

A feature's background work (the call-back reminders, the Hub Santé connector, the
editors' endpoint, the directory pulls) needs the kernel service, the room's settings,
the single writer and the broadcaster; the kernel's own session intents need the
connected desks too. They get these through the protocols below, not the hub itself,
so no module of the kernel or of a feature names the server.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from app.config.settings import HubSettings
from app.hub.connection import DeskConnection
from app.hub.service import HubService, Outgoing

if TYPE_CHECKING:
    from app.hub.fanout import PgFanout

T = TypeVar("T")


class HubContext(Protocol):
    """The running hub as an extension sees it."""

    @property
    def service(self) -> HubService:
        """The kernel: units of work, the cached user views, the clock."""
        ...

    @property
    def settings(self) -> HubSettings:
        """The room's configuration (each feature reads its section)."""
        ...

    @property
    def db_url(self) -> str:
        """Where the room's database is (the recordings' default store sits beside it)."""
        ...

    def clock(self) -> datetime:
        """The hub's time (a test's fake clock in tests)."""
        ...

    async def run_in_writer(self, fn: Callable[..., T], *args: object) -> T:
        """Run a unit of work on the hub's single writer."""
        ...

    def broadcast(self, events: list[Outgoing]) -> None:
        """Send committed events to the connected desks allowed to see them."""
        ...


class DeskHubContext(HubContext, Protocol):
    """The kernel's session intents also need the desks and the readers' pool."""

    @property
    def connections(self) -> set[DeskConnection]: ...

    @property
    def readers(self) -> Executor: ...

    @property
    def fanout(self) -> PgFanout | None: ...
