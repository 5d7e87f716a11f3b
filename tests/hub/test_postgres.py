"""The shared deployment: the same flow and migrations on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Event, User
from app.domain.enums import Role
from app.hub.auth import Principal, principal_of
from app.hub.service import FlowService
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier

pytestmark = pytest.mark.peers


#: The flow service on a fresh PostgreSQL schema, its users, its sessions.
PgService = tuple[FlowService, dict[str, Principal], sessionmaker[Session]]


@pytest.fixture
def pg_service(postgres_server: str, password_hash: str) -> Iterator[PgService]:
    engine = make_engine(postgres_server)
    with engine.begin() as conn:  # a clean schema for each test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        for name, role in (("n1", Role.ARM_N1), ("mrl", Role.MRL), ("osnp", Role.OSNP)):
            s.add(
                User(username=name, display_name=name, role=str(role), password_hash=password_hash)
            )
    with sessions() as s:
        people = {u.username: principal_of(u) for u in s.scalars(select(User))}
    yield FlowService(sessions), people, sessions
    engine.dispose()


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
