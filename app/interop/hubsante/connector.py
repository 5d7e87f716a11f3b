"""The AMQP side of the Hub Santé connector (aio-pika, TLS client certificate).

Routing as the Hub Santé defines it for a client id ``C``: we publish every message
to the topic exchange ``hubsante`` with ``C`` as routing key (the hub checks it is the
envelope's ``senderID``), persistent, ``application/json``; the hub delivers to us on
``C.message`` (cases), ``C.ack`` (acknowledgements) and ``C.info`` (errors).

Nothing is lost or doubled across a broker or hub restart: a delivery is acknowledged
to the broker only after its transaction committed (a redelivery is recognised by its
distribution id and not applied again); outbound messages wait in the outbox table
and are marked sent only once the broker confirmed them (publisher confirms), so a
message is published at least once and recognised by its id at the other end.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from app.config.settings import HubSanteSettings
from app.hub.service import HubService, Outgoing
from app.interop.hubsante import outbox
from app.interop.hubsante.inbox import Inbox

log = logging.getLogger(__name__)

Runner = Callable[..., Awaitable[Any]]
RETRY_SECONDS = 1.0


def ssl_context(settings: HubSanteSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    if settings.cert_file is not None:
        context.load_cert_chain(
            str(settings.cert_file), str(settings.key_file) if settings.key_file else None
        )
    return context


class Connector:
    def __init__(
        self,
        service: HubService,
        settings: HubSanteSettings,
        run: Runner,
        broadcast: Callable[[list[Outgoing]], None],
        *,
        ssl_ctx: ssl.SSLContext | None = None,
    ):
        self.service = service
        self.settings = settings
        self.run = run
        self.broadcast = broadcast
        self.ssl = ssl_ctx or ssl_context(settings)
        self.inbox = Inbox(service, settings)
        self.connection: AbstractRobustConnection | None = None
        self.wakeup = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pump: asyncio.Task[None] | None = None
        self.publisher: Any = None
        self.runner: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.incoming: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self.drainer: asyncio.Task[None] | None = None
        self.exchange: Any = None
        self.counts = {"applied": 0, "duplicate": 0, "refused": 0, "acknowledged": 0,
                       "error": 0, "published": 0}  # fmt: skip

    def wake(self) -> None:
        """Thread-safe: the writer calls it when it put something in the outbox."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.wakeup.set)

    async def start(self) -> None:
        """Connect in the background (a hub starts even while the broker is away)."""
        self.loop = asyncio.get_running_loop()
        self.runner = asyncio.create_task(self._connect_until_done(), name="hubsante-connect")

    async def _connect_until_done(self) -> None:
        while True:
            try:
                await self._connect()
                self.ready.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Hub Santé: not connected yet (%s); retrying", exc)
                if self.connection is not None:
                    await self.connection.close()
                    self.connection = None
                await asyncio.sleep(RETRY_SECONDS)

    async def _connect(self) -> None:
        if self.drainer is None:
            self.drainer = asyncio.create_task(self._drain(), name="hubsante-inbox")
        self.connection = await aio_pika.connect_robust(
            self.settings.url,
            ssl_context=self.ssl,
            client_properties={"connection_name": f"sasdesk {self.settings.client_id}"},
            reconnect_interval=RETRY_SECONDS,
        )
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=self.settings.prefetch)
        for suffix in ("message", "ack", "info"):
            queue = await channel.get_queue(f"{self.settings.client_id}.{suffix}", ensure=True)
            await queue.consume(self._on_message)
        self.publisher = await self.connection.channel(publisher_confirms=True)
        self.exchange = await self.publisher.get_exchange(self.settings.exchange, ensure=False)
        self.pump = asyncio.create_task(self._pump(), name="hubsante-outbox")
        self.wakeup.set()

    async def stop(self) -> None:
        for task in (self.runner, self.drainer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.drainer = None
        if self.pump is not None:
            self.pump.cancel()
            await asyncio.gather(self.pump, return_exceptions=True)
            self.pump = None
        if self.connection is not None:
            await self.connection.close()
            self.connection = None

    # -- inbound ------------------------------------------------------------------------

    async def _on_message(self, incoming: AbstractIncomingMessage) -> None:
        await self.incoming.put(incoming)

    async def _drain(self) -> None:
        """Deliveries waiting together are applied in one transaction (each in its own
        savepoint), then acknowledged to the broker."""
        while True:
            batch = [await self.incoming.get()]
            while len(batch) < self.settings.prefetch and not self.incoming.empty():
                batch.append(self.incoming.get_nowait())
            try:
                results = await self.run(self.inbox.receive_many, [m.body for m in batch])
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database refused (locked, gone): nothing was kept; the broker
                # keeps the messages and gives them again.
                log.exception("Hub Santé: deliveries not recorded, given back to the broker")
                await asyncio.sleep(RETRY_SECONDS)
                for m in batch:
                    await m.nack(requeue=True)
                continue
            for m, (what, events) in zip(batch, results, strict=True):
                self.counts[what] = self.counts.get(what, 0) + 1
                await m.ack()  # only now: the transaction is committed
                if events:
                    self.broadcast(events)
            if any(what in ("applied", "refused") for what, _ in results):
                self.wakeup.set()  # acknowledgements or errors are in the outbox

    # -- outbound -----------------------------------------------------------------------

    def _pending(self) -> list[tuple[int, str, str]]:
        with self.service.sessions() as s:
            return outbox.pending(s)

    def _mark(self, ids: list[int], distribution_ids: list[str]) -> None:
        with self.service.sessions.begin() as s:
            outbox.mark_sent(s, ids, distribution_ids, self.service.clock())

    async def _pump(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            try:
                while await self._publish_batch():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away: the outbox keeps everything
                log.warning("Hub Santé: outbox not published yet (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)
                self.wakeup.set()

    async def _publish_batch(self) -> bool:
        rows = await self.run(self._pending)
        if not rows or self.exchange is None:
            return False
        confirms = [
            self.exchange.publish(
                aio_pika.Message(
                    body.encode("utf-8"),
                    content_type="application/json",
                    content_encoding="UTF-8",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=distribution_id,
                ),
                routing_key=self.settings.client_id,
                mandatory=True,
            )
            for _, distribution_id, body in rows
        ]
        await asyncio.gather(*confirms)  # every one confirmed by the broker
        await self.run(self._mark, [r[0] for r in rows], [r[1] for r in rows])
        self.counts["published"] += len(rows)
        return True
