"""Extensions load strictly: an intent left without a handler stops the hub at start
with its name (they used to be skipped, or answered ``internal`` to the desk that sent
the intent); each hub's features keep their state on their own objects."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from sqlalchemy.orm import Session, sessionmaker

import app.stats.hub
from app.callback.hub import CallbackExtension
from app.directory.hub import DirectoryExtension
from app.flow.hub import FlowExtension
from app.hub import protocol as p
from app.hub import server
from app.hub.extensions import Extension, ExtensionError, Handler
from app.hub.service import HubService
from app.hub.session_intents import SessionIntents
from app.room import Hub, features
from app.stats.hub import StatsExtension


class ForgetfulStats(StatsExtension):
    """The statistics extension "forgets" to handle desk.state."""

    def handlers(self) -> Mapping[type[p.Intent], Handler]:
        return {app.stats.hub.StatsLive: app.stats.hub.stats_live}


def test_every_extension_installs_and_every_intent_has_a_handler(db_url: str) -> None:
    hub = Hub(db_url, "127.0.0.1", 0)
    names = [e.name for e in hub.extensions.extensions]
    assert names[0] == SessionIntents.name  # the kernel's own, then the room's
    assert names[1:] == [e.name for e in features(HubService(sessionmaker()))]
    stats = hub.extension(StatsExtension)
    assert set(stats.handlers()) == {app.stats.hub.DeskState, app.stats.hub.StatsLive}
    assert hub.service.projectors[0] in stats.projectors()
    # The flow's intents, and only those, may be grouped in one commit.
    assert hub.extension(FlowExtension).batchable() == frozenset(
        hub.extension(FlowExtension).handlers()
    )
    assert all(not e.batchable() for e in hub.extensions.extensions[2:])
    # The login snapshot: the kernel's user, then the flow's dossiers, tasks and calls.
    assert hub.service.snapshot_parts == [hub.extension(FlowExtension).snapshot]
    # The session intents are answered by the same dispatch, on the desk's connection.
    assert {p.Login, p.Resume, p.Logout, p.Ping, p.PasswordChange} <= set(hub.extensions.desk)
    assert not hub.extensions.desk[p.Logout].before_login
    assert hub.extensions.desk[p.Login].before_login


def test_an_intent_without_handler_is_named(db_url: str) -> None:
    def room(service: HubService) -> list[Extension]:
        return [ForgetfulStats() if isinstance(e, StatsExtension) else e for e in features(service)]

    with pytest.raises(ExtensionError, match=r"intentions sans traitement : desk\.state "):
        server.Hub(db_url, "127.0.0.1", 0, features=room)


def test_a_feature_not_installed_is_not_on_the_hubs_wire(db_url: str) -> None:
    # Every feature's intents are defined (imported above): defined is not registered.
    hub = server.Hub(db_url, "127.0.0.1", 0, features=lambda s: [DirectoryExtension(s)])
    assert "directory.search" in hub.wire.names
    assert "desk.state" not in hub.wire.names
    with pytest.raises(p.ProtocolError) as err:
        hub.wire.parse(json.dumps({"type": "desk.state"}))
    assert err.value.code == "unknown_type"


def test_two_features_cannot_handle_one_intent(db_url: str) -> None:
    with pytest.raises(ValueError, match="StatsLive already has a handler"):
        server.Hub(db_url, "127.0.0.1", 0, features=lambda s: [StatsExtension(), ForgetfulStats()])


async def test_two_hubs_in_one_process_keep_their_own_state(db_url: str) -> None:
    first = Hub(db_url, "127.0.0.1", 0)
    second = Hub(db_url, "127.0.0.1", 0)
    assert first.extension(CallbackExtension) is not second.extension(CallbackExtension)
    await first.start()
    try:
        assert first.extension(CallbackExtension).scheduler is not None
        assert second.extension(CallbackExtension).scheduler is None  # never started
    finally:
        await first.stop()
    assert first.extension(CallbackExtension).scheduler is None
    second.engine.dispose()


def test_a_service_without_the_handler_refuses_clearly(sessions: sessionmaker[Session]) -> None:
    from sqlalchemy import select

    from app.db.models import User
    from app.hub.auth import principal_of

    with sessions() as s:
        sup = principal_of(s.scalars(select(User).where(User.username == "sup")).one())
    service = HubService(sessions)  # nothing installed
    from app.domain.rules import FlowError

    with pytest.raises(FlowError) as err:
        service.handle(sup, app.stats.hub.StatsLive())
    assert err.value.code == "unknown_type" and "stats.live" in err.value.message
    assert p.intent_name(app.stats.hub.StatsLive) == "stats.live"
