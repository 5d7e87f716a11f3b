"""The other side of the Hub Santé, for the tests and the bench: the hub's dispatcher
(routes each envelope to its recipient's queue, as the Hub Santé does) and a peer
client (an LRM) that publishes and reads its own queues."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from app.interop.hubsante.broker import Broker
from app.interop.hubsante.messages import QUEUE_OF_KIND


class Dispatcher:
    """Reads ``dispatch`` and forwards to ``distribution`` / ``<recipient>.<type>``;
    a message whose routing key is not its senderID is dropped (counted)."""

    def __init__(self, broker: Broker):
        self.broker = broker
        self.connection: AbstractRobustConnection | None = None
        self.inconsistent = 0
        self.forwarded = 0

    async def start(self) -> None:
        self.connection = await aio_pika.connect_robust(
            self.broker.url("dispatcher"), ssl_context=self.broker.ssl_context("dispatcher"),
            reconnect_interval=0.5,
        )  # fmt: skip
        channel = await self.connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=200)
        self.out = await channel.get_exchange("distribution", ensure=False)
        queue = await channel.get_queue("dispatch", ensure=True)
        await queue.consume(self._forward)

    async def _forward(self, m: AbstractIncomingMessage) -> None:
        envelope = json.loads(m.body)
        if m.routing_key != envelope.get("senderID"):
            self.inconsistent += 1
            await m.ack()
            return
        recipient = envelope["descriptor"]["explicitAddress"]["explicitAddressValue"]
        suffix = QUEUE_OF_KIND.get(envelope.get("distributionKind", ""), "message")
        await self.out.publish(
            aio_pika.Message(m.body, content_type="application/json",
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=f"{recipient}.{suffix}",
        )  # fmt: skip
        self.forwarded += 1
        await m.ack()

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()


@dataclass
class Peer:
    """A Hub Santé client (the LRM in the tests): what it received, by queue."""

    broker: Broker
    client_id: str
    received: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"message": [], "ack": [], "info": []}
    )
    connection: AbstractRobustConnection | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.connection = await aio_pika.connect_robust(
            self.broker.url(self.client_id), ssl_context=self.broker.ssl_context(self.client_id),
            reconnect_interval=0.5,
        )  # fmt: skip
        channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await channel.get_exchange("hubsante", ensure=False)
        for suffix in ("message", "ack", "info"):
            queue = await channel.get_queue(f"{self.client_id}.{suffix}", ensure=True)

            async def take(m: AbstractIncomingMessage, suffix: str = suffix) -> None:
                self.received[suffix].append(json.loads(m.body))
                self.arrived.set()
                await m.ack()

            await queue.consume(take)

    async def publish(
        self, envelope: dict[str, Any] | bytes, routing_key: str | None = None
    ) -> None:
        body = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
        await self.exchange.publish(
            aio_pika.Message(body, content_type="application/json",
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=routing_key or self.client_id,
        )  # fmt: skip

    async def wait_for(
        self, suffix: str, count: int, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.received[suffix]) < count:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(
                    f"{self.client_id}.{suffix}: {len(self.received[suffix])}/{count} reçus"
                )
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(left, 0.5))
            except TimeoutError:
                pass
        return self.received[suffix]

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()
