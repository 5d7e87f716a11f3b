"""Shared fixtures: a real SQLite database with one account per role, a running hub."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import User
from app.domain.enums import Role
from app.flow.service import FlowService
from app.hub.auth import Principal, hash_password, principal_of
from app.room import Hub

if TYPE_CHECKING:
    from app.interop.hubsante.broker import Broker

# Hubs started by the tests never read the machine's /etc/sasdesk/hub.toml (the package
# test installs one for a while); a test that wants a file passes --config.
os.environ["SASDESK_CONFIG"] = ""

#: Tests that create Qt objects: in tests/ui, or asking for pytest-qt's fixtures.
QT_FIXTURES = {"qapp", "qtbot", "qloop"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "beside_package: needs at most one core and asserts no pace a busy machine breaks "
        "(a call over a minute in real time, mypy); the full run (scripts/test.sh) runs "
        "these beside the package test, whose build keeps one core busy",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """scripts/test.sh collects the package test from tests/installer alone (collecting
    the whole tree for it costs seconds): a package test elsewhere would never run."""
    stray = [
        item.nodeid
        for item in items
        if item.get_closest_marker("package") and not item.nodeid.startswith("tests/installer/")
    ]
    if stray:
        raise pytest.UsageError(f"package tests belong in tests/installer: {stray}")


@pytest.fixture(autouse=True)
def qt_garbage_dies_in_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """As the desk does (ui/main_thread_gc.py): Qt objects are freed on the GUI thread.
    The previous test's loop (its timer QObject), windows and bridges are Python-owned
    QObjects in reference cycles: collected now, before this test starts a hub, then no
    automatic collection while it runs, and one collection after it. Collected by
    another thread (a SIP, audio or hub thread), a QObject leaves its timers registered
    with the GUI thread and Qt crashes at their next tick (QTimerInfoList::activateTimers)."""
    qt = request.node.path.parent.name == "ui" or bool(QT_FIXTURES & set(request.fixturenames))
    if not qt:
        yield
        return
    gc.collect()  # what an earlier test left, freed here rather than on a hub thread
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


PASSWORD = "secret-test"
ACCOUNTS = (
    ("n1", Role.ARM_N1),
    ("n1b", Role.ARM_N1),
    ("n2", Role.ARM_N2),
    ("amu", Role.MEDECIN_AMU),
    ("mrl", Role.MRL),
    ("mrl2", Role.MRL),
    ("osnp", Role.OSNP),
    ("osnp2", Role.OSNP),
    ("sup", Role.SUPERVISEUR),
)


def add_accounts(s: Session, password_hash: str) -> None:
    """One account per role (``ACCOUNTS``), all with the password ``PASSWORD``."""
    for username, role in ACCOUNTS:
        s.add(
            User(
                username=username,
                display_name=f"{username} ({role.label})",
                role=str(role),
                password_hash=password_hash,
            )
        )


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hub.sqlite3'}"


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest schema, migrated once per run: a test's
    database starts as its copy (the whole chain of migrations costs ~0.15 s, a copy
    ~1 ms); the migrations themselves are tested in tests/guards/test_migration_chain.py."""
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sessions(
    db_url: str, password_hash: str, schema_template: Path
) -> Iterator[sessionmaker[Session]]:
    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(schema_template, target)
    engine = make_engine(db_url)
    upgrade(engine)  # a no-op on the copy; migrates a database given otherwise
    maker = make_sessionmaker(engine)
    with maker.begin() as s:
        add_accounts(s, password_hash)
    yield maker
    engine.dispose()


@pytest.fixture
def people(sessions: sessionmaker[Session]) -> dict[str, Principal]:
    from sqlalchemy import select

    from app.db.models import User

    with sessions() as s:
        return {u.username: principal_of(u) for u in s.scalars(select(User))}


@pytest.fixture
def service(sessions: sessionmaker[Session]) -> FlowService:
    return FlowService(sessions)


@pytest.fixture
async def hub(db_url: str, sessions: sessionmaker[Session]) -> AsyncIterator[Hub]:
    hub = Hub(db_url, "127.0.0.1", 0)
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One PostgreSQL cluster per test run (real peer: Debian's postgresql)."""
    from tests.pg import postgres_cluster

    with postgres_cluster() as url:
        yield url


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    """A real RabbitMQ laid out like the Hub Santé, with the test clients' certificates
    (tests/interop/hubsante_fixtures.py): one per test module, it takes seconds to start."""
    from app.interop.hubsante.broker import Broker
    from tests.interop.hubsante_fixtures import CLIENTS

    b = Broker(CLIENTS)
    b.start()
    yield b
    b.close()


@pytest.fixture
def pg_empty(postgres_server: str) -> str:
    """The run's PostgreSQL with an empty schema: what an earlier test wrote is gone."""
    from tests.pg import empty_schema

    empty_schema(postgres_server)
    return postgres_server


@pytest.fixture
def pg_url(postgres_server: str, password_hash: str) -> str:
    """The run's PostgreSQL with a fresh schema at the newest migration and one account
    per role (``ACCOUNTS``, the same as the SQLite ``sessions``)."""
    from tests.pg import fresh_schema

    fresh_schema(postgres_server, password_hash)
    return postgres_server


@pytest.fixture
def pg_sessions(pg_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``pg_url``'s fresh schema; its engine disposed after the test."""
    engine = make_engine(pg_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def pg_people(pg_sessions: sessionmaker[Session]) -> dict[str, Principal]:
    """``people`` on PostgreSQL: each test account as the hub sees it once logged in."""
    from sqlalchemy import select

    with pg_sessions() as s:
        return {u.username: principal_of(u) for u in s.scalars(select(User))}
