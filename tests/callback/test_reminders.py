"""Reminders and deadlines: a retry asked for 14:30 rings the OSNP's desk at 14:30, not
before, also after a hub restart; deadlines and closing time go to the supervisor."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from websockets.asyncio.client import connect

from app.callback import hub as callback_hub
from app.callback.hub import CallbackExtension
from app.callback.models import Reminder
from app.callback.reminders import fire_due, watch_tasks
from app.callback.settings import load_settings
from app.directory.hub import install as install_directory
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.hub.service import Outgoing, Unit
from app.room import Hub
from tests.callback.conftest import NOW, Desks, FakeClock, Territory, osnp_task, plan, target
from tests.conftest import PASSWORD
from tests.flow.flow_helpers import Actor

SETTINGS = load_settings()
AT_1430 = NOW.replace(hour=13, minute=30)  # 14:30 in Paris


def tick(service: FlowService) -> list[Outgoing]:
    """What the scheduler's job does when it runs: watch new tasks, fire what is due."""
    with service.sessions.begin() as s:
        u = Unit(s, None, service.clock(), service.user)
        watch_tasks(u, SETTINGS)
        fire_due(u)
        return u.outgoing()


def fired(outs: list[Outgoing], event: str) -> list[Outgoing]:
    return [o for o in outs if o.message["event"] == event]


def test_retry_at_1430_rings_the_osnp_desk_at_1430_and_after_a_restart(
    desks: Desks,
    territory: Territory,
    cb_service: FlowService,
    clock: FakeClock,
    sessions: sessionmaker[Session],
    people: dict[str, Principal],
) -> None:
    task_id = osnp_task(desks)
    p = plan(desks, task_id)
    desks.osnp.send(
        "callback.attempt",
        target_id=target(p, "MT")["id"],
        result="CALL_BACK",
        call_back_at=AT_1430.isoformat(),
    )
    other = osnp_task(desks, ref="call-2")
    desks.osnp.send(
        "callback.attempt",
        target_id=target(plan(desks, other), "MT")["id"],
        result="NO_ANSWER",
        retry_at=(AT_1430 + timedelta(hours=1)).isoformat(),
    )

    clock.now = AT_1430 - timedelta(seconds=1)
    assert fired(tick(cb_service), "callback.reminder") == []
    clock.now = AT_1430
    [ring] = fired(tick(cb_service), "callback.reminder")
    assert ring.audience.admits(people["osnp"])
    assert not ring.audience.admits(people["osnp2"]) and not ring.audience.admits(people["mrl"])
    assert ring.message["data"]["target"] == "Dr Claire Vasseur"
    assert ring.message["data"]["phone"] == "0600000000"
    assert ring.message["data"]["due_at"] == AT_1430.isoformat()
    assert ring.message["task"]["id"] == task_id
    assert fired(tick(cb_service), "callback.reminder") == []  # once only

    # the hub restarts: a new service on the same database still has the 15:30 retry
    restarted = FlowService(sessions, clock=clock)
    install_directory(restarted)
    callback_hub.install(restarted)
    clock.now = AT_1430 + timedelta(minutes=59)
    assert fired(tick(restarted), "callback.reminder") == []
    clock.now = AT_1430 + timedelta(hours=1, seconds=20)
    [ring] = fired(tick(restarted), "callback.reminder")
    assert ring.message["task"]["id"] == other
    assert ring.message["data"]["late_seconds"] == 20.0


def test_deadline_and_closing_time_raised_to_the_supervisor(
    desks: Desks,
    territory: Territory,
    cb_service: FlowService,
    clock: FakeClock,
    people: dict[str, Principal],
    sessions: sessionmaker[Session],
) -> None:
    task_id = osnp_task(desks)  # Monday 10:00, deadline Wednesday 10:00
    assert tick(cb_service) == []
    clock.now = NOW.replace(hour=18, minute=59, second=59)  # 19:59:59 Paris
    assert tick(cb_service) == []
    clock.now = NOW.replace(hour=19)  # 20:00: the SAS closes, the task is still open
    [closing] = tick(cb_service)
    assert closing.message["event"] == "callback.outside_hours"
    assert closing.audience.admits(people["sup"]) and closing.audience.admits(people["osnp"])
    assert not closing.audience.admits(people["osnp2"])
    clock.advance(hours=3)
    assert tick(cb_service) == []  # one alert per closed period
    clock.now = NOW + timedelta(hours=44) - timedelta(seconds=1)
    outs = tick(cb_service)
    assert [o.message["event"] for o in outs] == ["callback.outside_hours"]  # Tuesday 20:00
    clock.now = NOW + timedelta(hours=44)  # Wednesday 06:00 Paris: 4 h before the deadline
    [near] = tick(cb_service)
    assert near.message["event"] == "callback.deadline_near"
    assert near.message["data"]["hours_left"] == 4.0
    assert near.audience.admits(people["sup"])
    with sessions() as s:
        rows = s.scalars(select(Reminder).where(Reminder.task_id == task_id)).all()
    assert sorted(r.kind for r in rows) == ["DEADLINE", "OUTSIDE_HOURS", "OUTSIDE_HOURS"]


def test_closed_task_reminders_never_ring(
    desks: Desks, territory: Territory, cb_service: FlowService, clock: FakeClock
) -> None:
    task_id = osnp_task(desks)
    p = plan(desks, task_id)
    desks.osnp.send("callback.attempt", target_id=target(p, "MT")["id"], result="BUSY")
    desks.osnp.send("callback.attempt", target_id=target(p, "CRENEAU")["id"], result="ACCEPTED")
    clock.advance(hours=50)
    assert tick(cb_service) == []


class ShiftedClock:
    """Real time, shifted: APScheduler waits for real, the hub sees the test's day."""

    def __init__(self, at: datetime):
        self.offset = at - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def desk(hub: Hub, username: str) -> Any:
    ws = await connect(hub.url)
    await ws.recv()  # welcome
    await ws.send(json.dumps({"type": "login", "username": username, "password": PASSWORD}))
    assert json.loads(await ws.recv())["type"] == "ok"
    await ws.recv()  # snapshot
    return ws


async def next_event(ws: Any, name: str, timeout: float) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("event") == name:
                return msg

    return await asyncio.wait_for(wait(), timeout)


async def test_apscheduler_in_the_hub_rings_at_the_time_after_a_restart(
    db_url: str, sessions: sessionmaker[Session], territory: Territory, people: dict[str, Principal]
) -> None:
    clock = ShiftedClock(AT_1430 - timedelta(seconds=4))
    hub = Hub(db_url, "127.0.0.1", 0, clock=clock)
    await hub.start()
    await hub.extension(CallbackExtension).start(hub)  # started already: a no-op
    actors = Desks(*(Actor(hub.service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))
    task_id = osnp_task(actors)
    mt = target(plan(actors, task_id), "MT")
    actors.osnp.send(
        "callback.attempt", target_id=mt["id"], result="CALL_BACK", call_back_at=AT_1430.isoformat()
    )
    await hub.extension(CallbackExtension).stop(hub)
    await hub.stop()  # the hub goes down before 14:30

    hub = Hub(db_url, "127.0.0.1", 0, clock=clock)
    await hub.start()
    osnp = await desk(hub, "osnp")
    osnp2 = await desk(hub, "osnp2")
    await hub.extension(CallbackExtension).start(hub)
    try:
        ring = await next_event(osnp, "callback.reminder", timeout=10)
        assert clock() >= AT_1430  # not before its time
        assert clock() < AT_1430 + timedelta(seconds=5)
        assert ring["data"]["target_id"] == mt["id"]
        assert ring["task"]["id"] == task_id
        try:
            await next_event(osnp2, "callback.reminder", timeout=0.5)
            raise AssertionError("another OSNP's desk rang")
        except TimeoutError:
            pass
    finally:
        await osnp.close()
        await osnp2.close()
        await hub.extension(CallbackExtension).stop(hub)
        await hub.stop()


def test_calling_again_before_the_retry_supersedes_it(
    desks: Desks, territory: Territory, cb_service: FlowService, clock: FakeClock
) -> None:
    task_id = osnp_task(desks)
    mt = target(plan(desks, task_id), "MT")
    desks.osnp.send("callback.attempt", target_id=mt["id"], result="NO_ANSWER")
    clock.advance(minutes=5)  # the MT's secretary calls back; the OSNP calls at once
    desks.osnp.send(
        "callback.attempt",
        target_id=mt["id"],
        result="CALL_BACK",
        call_back_at=(NOW + timedelta(hours=2)).isoformat(),
    )
    clock.advance(minutes=15)  # the first retry (15 min) would have been due now
    assert fired(tick(cb_service), "callback.reminder") == []
    clock.now = NOW + timedelta(hours=2)
    assert len(fired(tick(cb_service), "callback.reminder")) == 1
