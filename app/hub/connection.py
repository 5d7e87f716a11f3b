"""One desk's websocket connection as the kernel and its session intents see it, and the
outbox through which the hub writes to every desk."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from app.db.types import utcnow
from app.hub.auth import Principal
from app.hub.framing import PART_CHARS, parts

log = logging.getLogger(__name__)


class Outbox:
    """Frames to desks, written to each socket once per turn of the event loop.

    A desk's reply and the events of its intent, and under load all the events of a
    group-committed batch, leave in one write per desk instead of one per message; an
    event's frame is built once for all its desks (a frame from the hub is the same
    bytes for every desk unless it compresses). A socket write per message and desk, and
    websockets building the same frame again for each desk, were the largest costs of
    the hub's event loop (py-spy on ``sasdesk bench flow``). The writes happen at the
    next turn of the loop, before it waits for the network again.

    Every data frame to a desk goes through here (:meth:`DeskConnection.send_text`
    writes what is queued before a large message's parts or a closing frame), so a
    desk receives its messages in the order they were given.
    """

    def __init__(self) -> None:
        self._pending: dict[ServerConnection, list[bytes]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @staticmethod
    def frame(data: bytes) -> bytes:
        """The text frame a hub sends for UTF-8 ``data`` (unmasked, uncompressed)."""
        return Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[])

    def put(self, ws: ServerConnection, data: bytes, frame: bytes | None = None) -> bool:
        """Queue one text frame (UTF-8 ``data``, its ``frame`` if already built); False
        if the connection is not open (the desk is leaving: skipped, as websockets'
        ``broadcast`` does)."""
        protocol = ws.protocol
        if protocol.state is not State.OPEN:
            return False
        if protocol.extensions:  # compression negotiated: this desk's own frame
            protocol.send_text(data)
            chunk = b"".join(protocol.data_to_send())
        else:
            chunk = frame if frame is not None else self.frame(data)
        queue = self._pending.get(ws)
        if queue is not None:
            queue.append(chunk)
            return True
        if not self._pending:
            if self._loop is None or self._loop.is_closed():  # asking costs a getpid
                self._loop = asyncio.get_running_loop()
            self._loop.call_soon(self.flush)
        self._pending[ws] = [chunk]
        return True

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for ws, chunks in pending.items():
            _write(ws, chunks)

    def flush_one(self, ws: ServerConnection) -> None:
        """Write now what is queued for ``ws`` (before websockets sends to it itself)."""
        chunks = self._pending.pop(ws, None)
        if chunks:
            _write(ws, chunks)


def _write(ws: ServerConnection, chunks: list[bytes]) -> None:
    if ws.protocol.state is not State.OPEN:
        return  # closing: no data frame may follow the closing one
    try:
        ws.transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    except Exception as exc:  # one broken socket does not stop the others
        log.warning("write to a desk failed: %s", exc)


@dataclass(eq=False)
class DeskConnection:
    ws: ServerConnection
    #: The hub's outbox (None: every message written at once, as websockets sends it).
    outbox: Outbox | None = None
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

    async def send(self, message: Mapping[str, Any]) -> None:
        """One message, cut into parts if it is large (app.hub.framing)."""
        await self.send_text(json.dumps(message))

    async def send_text(self, text: str) -> None:
        """One message already encoded: through the outbox if it is small and the desk
        reads what it is sent; else websockets' own send (it waits for a slow desk, and
        raises ConnectionClosed if the desk has gone)."""
        if (
            len(text) <= PART_CHARS
            and self.outbox is not None
            and self.ws.transport.get_write_buffer_size() <= self.ws.write_limit_high
            and self.outbox.put(self.ws, text.encode())
        ):
            return
        self.flush()
        for frame in parts(text):
            await self.ws.send(frame)

    def flush(self) -> None:
        """Write what the outbox holds for this desk (before websockets writes to it)."""
        if self.outbox is not None:
            self.outbox.flush_one(self.ws)
