"""Several hubs on one PostgreSQL: events reach the desks of every hub.

Each hub NOTIFYs its events inside the transaction that wrote them (PostgreSQL
delivers a notification only if, and when, the transaction commits), and LISTENs for
the others'. Nothing home-made crosses the network: only PostgreSQL's own channel.

A notification's payload is a small JSON envelope (the sending hub, the audience), then,
after a newline, the event's message exactly as the desks receive it: a hub hearing it
reads the envelope only and sends the message's text on as it is, and a hub skips its
own notifications from their first characters. A message too large for a payload is
named by its ``seq`` in the envelope and read again from the log.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db.fast import Fast
from app.domain.enums import Role
from app.hub.service import Outgoing
from app.hub.visibility import Audience

log = logging.getLogger(__name__)
CHANNEL = "sasdesk_events"
MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes
#: The envelope at the head of a payload, and where it ends.
_decode = json.JSONDecoder().raw_decode


def notify_end(session: Session, ended: dict[str, Any], origin: str = "") -> None:
    """Sessions ended (logout, ``sasdesk users disable``): every hub closes their desks.

    Inside the caller's transaction: heard only if, and when, it commits.
    """
    payload = json.dumps({"o": origin, "end": ended})
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
    )


@functools.cache
def _notify_statement(count: int) -> Fast:
    """``SELECT pg_notify(…), pg_notify(…)``: PostgreSQL delivers them in this order.

    Run on the driver's cursor (app.db.fast): every transaction of the writer sends
    one, and SQLAlchemy's execution of a text statement cost more than the driver's."""
    calls = ", ".join(f"pg_notify(:channel, :p{n})" for n in range(count))
    return Fast(text(f"SELECT {calls}"))


class PgFanout:
    def __init__(
        self,
        engine: Engine,
        deliver: Callable[[str, Audience], None],
        rebuild: Callable[[int], dict[str, Any] | None],
        resync: Callable[[], None],
    ):
        self.origin = uuid.uuid4().hex
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        #: Our own payloads begin so (the origin is the envelope's first member).
        self._own = json.dumps({"o": self.origin})[:-1]
        self.deliver = deliver  # an event's JSON text to this hub's desks it admits
        self.rebuild = rebuild  # an event's message from its seq (large payloads)
        self.resync = resync  # after a lost LISTEN connection: fresh snapshots
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        #: Sessions ended elsewhere (another hub, ``sasdesk users disable``): close them here.
        self.on_end: Callable[[dict[str, Any]], None] | None = None

    # -- sending (runs on the writer thread, inside the transaction) -------------------

    def notify(self, session: Session, events: list[Outgoing]) -> None:
        """All of a unit's events in one statement (one round trip, however many)."""
        params: dict[str, str] = {"channel": CHANNEL}
        for n, out in enumerate(events):
            envelope = {
                "o": self.origin,
                "r": sorted(str(r) for r in out.audience.roles),
                "u": sorted(out.audience.users),
            }
            # json.dumps writes ASCII: its length is the payload's size in bytes.
            payload = f"{json.dumps(envelope)}\n{out.encoded()}"
            if len(payload) > MAX_PAYLOAD:
                payload = json.dumps({**envelope, "seq": out.message["seq"]})
            params[f"p{n}"] = payload
        if events:
            _notify_statement(len(events)).rows(session, params)

    def announce_end(self, session: Session, ended: dict[str, Any]) -> None:
        """Tell the other hubs, when this transaction commits, that sessions ended."""
        notify_end(session, ended, self.origin)

    # -- receiving ----------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="hub-pg-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _listen(self) -> None:
        first = True
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:
                        self.resync()  # events may have been missed while deaf
                    first, delay = False, 0.5
                    await self._hear(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # lost PostgreSQL: keep serving, retry, resync
                self.listening.clear()
                log.warning("LISTEN %s lost (%s); retrying in %.1f s", CHANNEL, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _hear(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The notifications, read from libpq whenever its socket is readable, until the
        connection fails. One reader for the connection's life: psycopg's ``notifies()``
        registers and removes one around every wait (two system calls, a future and a
        generator per wake-up of the loop, for every event of the other hubs)."""
        loop = asyncio.get_running_loop()
        pgconn = conn.pgconn
        encoding = conn.info.encoding
        lost: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            try:
                pgconn.consume_input()  # raises once the server or the network is gone
                while (note := pgconn.notifies()) is not None:
                    self._received(note.extra.decode(encoding))
            except Exception as exc:
                if not lost.done():
                    lost.set_exception(exc)

        fd = pgconn.socket
        loop.add_reader(fd, readable)
        try:
            readable()  # notifications that came with the LISTEN's reply
            await lost
        finally:
            loop.remove_reader(fd)

    def _received(self, payload: str) -> None:
        if payload.startswith(self._own):
            return  # our own events were broadcast already
        try:
            data, end = _decode(payload)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            if "end" in data:
                if self.on_end is not None:
                    self.on_end(data["end"])
                return
            if end < len(payload):  # the message follows the envelope, as desks get it
                text = payload[end + 1 :]
            else:
                message = self.rebuild(int(data["seq"]))
                if message is None:
                    return
                text = json.dumps(message)
            audience = Audience(roles={Role(r) for r in data["r"]}, users=set(data["u"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("unreadable notification on %s: %s", CHANNEL, exc)
            return
        self.deliver(text, audience)
