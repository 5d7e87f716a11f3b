from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import HubSettings
from app.room import Hub


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
async def rec_hub(db_url: str, sessions: sessionmaker[Session], store: Path) -> AsyncIterator[Hub]:
    hub = Hub(db_url, "127.0.0.1", 0, settings=HubSettings(recordings_store=store))
    await hub.start()
    yield hub
    await hub.stop()
