"""The call-back on the shared deployment: migration 0003, the plan, an accepted call,
and two hubs firing the same due reminder only once (PostgreSQL row locks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.callback.hub import install as install_callback
from app.callback.reminders import fire_due
from app.directory.hub import install as install_directory
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.hub.service import Unit
from tests.callback.conftest import NOW, Desks, FakeClock, build_territory, osnp_task, plan, target
from tests.flow.flow_helpers import Actor

pytestmark = pytest.mark.peers


def test_callback_on_postgresql(
    pg_sessions: sessionmaker[Session], pg_people: dict[str, Principal]
) -> None:
    with pg_sessions.begin() as s:
        build_territory(s)
    clock = FakeClock()
    hubs = []
    for _ in range(2):
        service = FlowService(pg_sessions, clock=clock)
        install_directory(service)
        install_callback(service)
        hubs.append(service)
    desks = Desks(*(Actor(hubs[0], pg_people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))
    task_id = osnp_task(desks, "Dr Claire Vasseur")
    p = plan(desks, task_id)
    assert p["targets"][0]["name"] == "Dr Claire Vasseur"
    desks.osnp.send("callback.attempt", target_id=target(p, "MT")["id"], result="NO_ANSWER")
    clock.now = NOW + timedelta(minutes=15)
    # two hub processes fire at the same moment, in overlapping transactions
    first, second = (hub.sessions.begin() for hub in hubs)
    s1, s2 = first.__enter__(), second.__enter__()
    try:
        u1 = Unit(s1, None, clock(), hubs[0].user)
        assert fire_due(u1) == 1
        u2 = Unit(s2, None, clock(), hubs[1].user)
        assert fire_due(u2) == 0  # the row is locked by the first hub: skipped, not doubled
    finally:
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)
    reply = desks.osnp.send(
        "callback.attempt", target_id=target(p, "CRENEAU")["id"], result="ACCEPTED"
    )
    assert reply["appointment"]["outcome"] == "RDV_CRENEAU"
