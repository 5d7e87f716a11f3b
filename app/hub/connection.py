"""One desk's websocket connection as the kernel and its session intents see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from app.db.types import utcnow
from app.hub.auth import Principal
from app.hub.framing import frames


@dataclass(eq=False)
class DeskConnection:
    ws: ServerConnection
    principal: Principal | None = None
    token: str | None = None
    session_id: int | None = None
    #: The desk's last intent (idle timeout), by the hub's clock.
    last_active: datetime = field(default_factory=utcnow)

    @property
    def open(self) -> bool:
        """The desk is still connected (its socket's state follows a close at once)."""
        return self.ws.state is State.OPEN

    @property
    def address(self) -> str:
        remote = self.ws.remote_address
        return str(remote[0]) if remote else "?"

    async def send(self, message: dict[str, Any]) -> None:
        """One message, cut into parts if it is large (app.hub.framing)."""
        for frame in frames(message):
            await self.ws.send(frame)
