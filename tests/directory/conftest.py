"""Directory fixtures: the demo directory at a fixed instant, and a hub service on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.demo.seed import load_territory
from app.directory.demo import seed_directory_demo
from app.directory.hub import install
from app.flow.service import FlowService

#: A Monday morning in Paris (10:00 local): the week's cap counts from today.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as s:
        assert seed_directory_demo(s, load_territory(), NOW)
    return sessions


@pytest.fixture
def dir_service(demo_sessions: sessionmaker[Session]) -> FlowService:
    service = FlowService(demo_sessions, clock=lambda: NOW)
    install(service)
    return service
