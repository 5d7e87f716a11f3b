"""Extensions load strictly: a missing module, or an intent left without a handler,
stops the hub at start with its name (they used to be skipped, or answered
``internal`` to the desk that sent the intent)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

import app.stats.hub
from app.hub import protocol as p
from app.hub.extensions import EXTENSIONS, ExtensionError, install_all
from app.hub.server import Hub
from app.hub.service import FlowService


def test_every_extension_installs_and_every_intent_has_a_handler(
    sessions: sessionmaker[Session],
) -> None:
    service = FlowService(sessions)
    loaded = install_all(service)
    assert [e.name for e in loaded] == list(EXTENSIONS)
    stats = next(e for e in loaded if e.name == "app.stats.hub")
    assert {c.__name__ for c in stats.intents} == {"DeskState", "StatsLive"}
    callback = next(e for e in loaded if e.name == "app.callback.hub")
    assert callback.start is not None and callback.stop is not None  # the reminders


def test_a_missing_module_stops_the_hub(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ExtensionError, match="app.nowhere.hub introuvable"):
        install_all(FlowService(sessions), ("app.directory.hub", "app.nowhere.hub"))


def test_an_intent_without_handler_is_named(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The statistics extension "forgets" to register desk.state.
    def install(service: FlowService) -> None:
        service.register(app.stats.hub.StatsLive, app.stats.hub.stats_live)

    monkeypatch.setattr(app.stats.hub, "install", install)
    with pytest.raises(ExtensionError, match="app.stats.hub : pas de traitement pour DeskState"):
        install_all(FlowService(sessions), ("app.stats.hub",))


def test_an_intent_of_a_module_not_installed_is_named(sessions: sessionmaker[Session]) -> None:
    # Every extension's intents are defined (imported above); install only one module.
    with pytest.raises(ExtensionError, match=r"intentions sans traitement : .*desk\.state"):
        install_all(FlowService(sessions), ("app.directory.hub",))


def test_a_hub_with_a_missing_extension_does_not_start(
    db_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.hub.extensions.EXTENSIONS", (*EXTENSIONS, "app.nowhere.hub"))
    with pytest.raises(ExtensionError, match="app.nowhere.hub"):
        Hub(db_url, "127.0.0.1", 0)


def test_a_service_without_the_handler_refuses_clearly(sessions: sessionmaker[Session]) -> None:
    from sqlalchemy import select

    from app.db.models import User
    from app.hub.auth import principal_of

    with sessions() as s:
        sup = principal_of(s.scalars(select(User).where(User.username == "sup")).one())
    service = FlowService(sessions)  # nothing installed
    from app.domain.rules import FlowError

    with pytest.raises(FlowError) as err:
        service.handle(sup, app.stats.hub.StatsLive())
    assert err.value.code == "unknown_type" and "stats.live" in err.value.message
    assert p.intent_name(app.stats.hub.StatsLive) == "stats.live"
