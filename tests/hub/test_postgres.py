"""The shared deployment: the same flow and migrations on a real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.models import Event
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier

pytestmark = pytest.mark.peers


#: The flow service on a fresh PostgreSQL schema, its users, its sessions.
PgService = tuple[FlowService, dict[str, Principal], sessionmaker[Session]]


@pytest.fixture
def pg_service(pg_sessions: sessionmaker[Session], pg_people: dict[str, Principal]) -> PgService:
    return FlowService(pg_sessions), pg_people, pg_sessions


def test_migrations_and_full_flow_on_postgresql(pg_service: PgService) -> None:
    service, people, sessions = pg_service
    n1, mrl, osnp = (Actor(service, people[n]) for n in ("n1", "mrl", "osnp"))
    dossier_id = snp_dossier(n1, mrl)
    task = mrl.send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    osnp.send("task.take", task_id=task["id"])
    out = osnp.send(
        "task.close",
        task_id=task["id"],
        outcome="SANS_SOLUTION",
        no_solution_reason="AUCUN_CRENEAU",
    )
    assert out["dossier"]["status"] == "CLOSED"
    with sessions() as s:
        # 9 dossier and task events (see test_flow) plus call.offered and call.answered
        assert s.scalar(select(func.count()).select_from(Event)) == 11
        # Aware UTC datetimes survive the round trip on PostgreSQL too.
        event = s.scalars(select(Event).order_by(Event.seq)).first()
        assert event is not None and event.at.utcoffset() is not None


def test_migrations_are_idempotent_on_postgresql(postgres_server: str) -> None:
    engine = make_engine(postgres_server)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version is not None
    engine.dispose()
