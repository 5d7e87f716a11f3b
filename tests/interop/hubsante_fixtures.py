"""The Hub Santé on loopback for the tests: a real RabbitMQ laid out like the Hub Santé
(app/interop/hubsante/broker.py), its dispatcher, a peer client, and a hub whose
connector talks to them. The fixture ``broker`` (tests/conftest.py) is module-scoped: one
RabbitMQ per test module; each test starts its own hub with :func:`start_hub`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import HubSanteSettings, HubSettings
from app.interop.hubsante import broker as rmq
from app.interop.hubsante.broker import Broker
from app.interop.hubsante.connector import Connector
from app.interop.hubsante.hub import HubSanteExtension
from app.interop.hubsante.peer import Dispatcher, Peer
from app.room import Hub

#: Our hub's client id on the test Hub Santé, and the other clients the tests play.
SAS = "fr.health.sas017"
LRM = "fr.health.samu017"
PTFSAS = "fr.health.ptfsas"
CLIENTS = [SAS, LRM, PTFSAS]

needs_rabbitmq = pytest.mark.skipif(not rmq.available(), reason="rabbitmq-server absent")


def settings(b: Broker, **changes: Any) -> HubSettings:
    c = b.clients[SAS]
    hs = HubSanteSettings(
        client_id=SAS, url=b.url(SAS), ca_file=b.ca, cert_file=c.cert, key_file=c.key,
        default_recipient=LRM,
    )  # fmt: skip
    return HubSettings(hubsante=replace(hs, **changes))


async def start_hub(db_url: str, b: Broker, **changes: Any) -> Hub:
    hub = Hub(db_url, "127.0.0.1", 0, settings=settings(b, **changes))
    await hub.start()
    await asyncio.wait_for(connector(hub).ready.wait(), 30)
    return hub


def connector(hub: Hub) -> Connector:
    """The hub's Hub Santé connector (kept by its extension while the hub runs)."""
    found = hub.extension(HubSanteExtension).connector
    assert isinstance(found, Connector), "the Hub Santé extension is not running"
    return found


async def start_peers(b: Broker, *client_ids: str) -> tuple[Dispatcher, list[Peer]]:
    """The Hub Santé's dispatcher and one peer client per id, connected."""
    dispatcher = Dispatcher(b)
    await dispatcher.start()
    peers = [Peer(b, cid) for cid in client_ids]
    for p in peers:
        await p.start()
    return dispatcher, peers


async def stop_peers(dispatcher: Dispatcher, peers: list[Peer]) -> None:
    for p in peers:
        await p.stop()
    await dispatcher.stop()


def count(sessions: sessionmaker[Session], model: type, *where: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def unique(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a peer keeps: one message per distribution id (publishing is at least once:
    a message whose confirmation was lost in a broker restart is published again, with
    the same id)."""
    return list({m["distributionID"]: m for m in received}.values())
