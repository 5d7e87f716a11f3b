"""Call-back fixtures: a small directory stated by each test's needs, a fake clock,
and the flow driven to an OSNP task the way the desks do it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.callback.hub import CallbackExtension, CallbackHandlers
from app.callback.hub import install as install_callback
from app.directory.hub import install as install_directory
from app.directory.models import Effecteur
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.directory.builders import AYTRE, LA_ROCHELLE, SURGERES, doctor, slot
from tests.directory.conftest import demo_sessions  # noqa: F401  (the demo directory)
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier

#: Monday 23 November 2026, 10:00 in Paris.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PRACTICE = "12 rue des Merciers"


class FakeClock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@dataclass
class Territory:
    mt: Effecteur
    confrere: Effecteur
    sas: Effecteur
    other: Effecteur
    beyond: Effecteur
    far: Effecteur


def build_territory(s: Session) -> Territory:
    mt = doctor(
        s,
        "10100000001",
        "Vasseur",
        first="Claire",
        address=PRACTICE,
        sas=False,
        agenda_level="none",
    )
    confrere = doctor(
        s, "10100000002", "Ferrand", first="Hugo", address=PRACTICE, sas=False, agenda_level="none"
    )
    sas = doctor(s, "10100000003", "Barbier", first="Inès", at=AYTRE, address="3 rue du Fort")
    other = doctor(s, "10100000004", "Tessier", first="Paul", sas=False, address="8 quai Duperré")
    beyond = doctor(
        s, "10100000005", "Lenoir", first="Marc", beyond=True, sas=True, address="40 avenue Carnot"
    )
    beyond.conditions = "M'appeler avant chaque consultation"
    far = doctor(s, "10100000006", "Roux", first="Anne", at=SURGERES, address="1 place Mairie")
    slot(s, sas, NOW + timedelta(hours=5))
    slot(s, other, NOW + timedelta(hours=2))
    slot(s, far, NOW + timedelta(hours=1))  # outside the radius
    return Territory(mt, confrere, sas, other, beyond, far)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def territory(sessions: sessionmaker[Session]) -> Territory:
    with sessions.begin() as s:
        t = build_territory(s)
        s.expunge_all()
    return t


@pytest.fixture
def cb_extension(sessions: sessionmaker[Session], clock: FakeClock) -> CallbackExtension:
    service = FlowService(sessions, clock=clock)
    install_directory(service)
    return install_callback(service)


@pytest.fixture
def cb_service(cb_extension: CallbackExtension) -> FlowService:
    service = cb_extension.service
    assert isinstance(service, FlowService)
    return service


@pytest.fixture
def handlers(cb_extension: CallbackExtension) -> CallbackHandlers:
    return cb_extension.callbacks


@dataclass
class Desks:
    n1: Actor
    mrl: Actor
    osnp: Actor
    osnp2: Actor
    sup: Actor


@pytest.fixture
def desks(cb_service: FlowService, people: dict[str, Principal]) -> Desks:
    return Desks(*(Actor(cb_service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))


def counted_room(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> tuple[FlowService, Desks, FakeClock]:
    """The call-back territory behind a hub with the directory, the call-back workflow
    and the statistics' projector installed, and its five desks."""
    from app.stats.hub import install as install_stats

    with sessions.begin() as s:
        build_territory(s)
    clock = FakeClock()
    service = FlowService(sessions, clock=clock)
    install_directory(service)
    install_callback(service)
    install_stats(service)
    desks = Desks(*(Actor(service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))
    return service, desks, clock


def osnp_task(
    desks: Desks,
    treating_doctor: str = "Dr Vasseur",
    ref: str = "call-1",
    consultation_type: str = "cabinet",
    wanted: dict[str, str] | None = None,
    **fields: Any,
) -> int:
    """A P2 dossier oriented to a consultation within 48 h, taken by the OSNP."""
    dossier_id = snp_dossier(desks.n1, desks.mrl, ref)
    desks.mrl.send(
        "dossier.update",
        dossier_id=dossier_id,
        fields={
            "treating_doctor": treating_doctor,
            "callback_number": "0639980101",
            "address": "5 rue des Dames, 17000 La Rochelle",
            **fields,
        },
    )
    reply = desks.mrl.send(
        "dossier.decide",
        dossier_id=dossier_id,
        **{**ORIENT_48H, "consultation_type": consultation_type, **(wanted or {})},
    )
    task_id = int(reply["task"]["id"])
    desks.osnp.send("task.take", task_id=task_id)
    return task_id


def plan(desks: Desks, task_id: int) -> dict[str, Any]:
    reply: dict[str, Any] = desks.osnp.send("callback.plan", task_id=task_id)["plan"]
    return reply


def target(p: dict[str, Any], kind: str, n: int = 0) -> dict[str, Any]:
    found = [t for t in p["targets"] if t["kind"] == kind]
    assert len(found) > n, f"no {kind} #{n} in {[t['kind'] for t in p['targets']]}"
    return found[n]


__all__ = ["LA_ROCHELLE", "NOW", "Desks", "FakeClock", "Territory", "osnp_task", "plan", "target"]
