"""Registration against the room's Kamailio: digest auth, refusal, refresh, recovery."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.line import LineEventKind as K
from telephony.sip import RegistrationState, SipLine
from tests.telephony.conftest import EventLog
from tests.waits import wait_until

from .conftest import DOMAIN, answer_on_ring, n1_room

pytestmark = pytest.mark.peers


def test_register_answers_the_401_challenge(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1")
    event = log.wait(K.REGISTERED, 5)
    assert line.registration.state is RegistrationState.REGISTERED
    assert event.reason == "expires=3600"
    assert line.stats["challenges"] == 1  # Kamailio asked (401), the desk answered once


def test_wrong_password_fails_clearly_without_hanging(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "not-the-password")
    failed = log.wait(K.REGISTRATION_FAILED, 5)
    assert "401" in failed.reason
    assert line.registration.state is RegistrationState.FAILED
    time.sleep(1.5)  # no retry storm, no flip-flop: the state is final
    assert log.kinds().count("registration_failed") == 1
    assert K.REGISTERED not in [e.kind for e in log.events]
    started = time.monotonic()
    line.stop()
    assert time.monotonic() - started < 2.5


def test_unknown_desk_is_refused(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    _line, log = line_factory(room, "intruder", "x")
    assert "403" in log.wait(K.REGISTRATION_FAILED, 5).reason


def test_reregisters_at_the_expiry_the_server_grants(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory, max_expires=2)
    line, log = line_factory(room, "arm1", "secret-1", expires=3600)
    assert log.wait(K.REGISTERED, 5).reason == "expires=2"
    # Refreshed at half the 2 s granted: 3 REGISTERs within 3.2 s (not at the hour asked).
    wait_until(lambda: line.registration.refreshes >= 3, "3 refreshes", timeout=3.2)
    assert line.registration.expires == 2
    assert line.registration.state is RegistrationState.REGISTERED
    assert log.kinds().count("registered") == 1  # refreshes are not new registrations


def test_proxy_down_then_back(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory, max_expires=2)
    line, log = line_factory(
        room, "arm1", "secret-1", t1=0.1, request_timeout=1.0, retry_min=0.5, retry_max=1.0
    )
    log.wait(K.REGISTERED, 5)
    room.stop()
    log.wait(K.REGISTRATION_LOST, 6)
    log.wait(K.REGISTRATION_RETRYING, 3)
    assert line.registration.state in (RegistrationState.RETRYING, RegistrationState.LOST)
    room.start()
    back = log.wait(K.REGISTERED, 8, count=2)
    assert back.reason == "expires=2"
    assert line.registration.state is RegistrationState.REGISTERED
    kinds = log.kinds()
    assert kinds.index("registration_lost") < kinds.index("registration_retrying")


def test_proxy_down_is_noticed_between_refreshes(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    """A one-hour registration: the OPTIONS keep-alive notices the proxy is gone."""
    room = n1_room(room_factory)
    line, log = line_factory(
        room, "arm1", "secret-1", keepalive=0.3, t1=0.1, request_timeout=1.0, retry_min=0.5
    )
    assert log.wait(K.REGISTERED, 5).reason == "expires=3600"
    time.sleep(0.5)  # keep-alives answered while the proxy is up (no count is exposed)
    room.stop()
    assert log.wait(K.REGISTRATION_LOST, 4).reason == "the proxy does not answer"
    room.start()
    log.wait(K.REGISTERED, 8, count=2)
    assert line.registration.state is RegistrationState.REGISTERED


def test_a_refresh_answered_by_a_restarted_proxy_says_the_desk_was_lost_then_back(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    """No keep-alive: the refresh, retransmitted while the proxy restarts, is answered by
    the new one; the desk hears it was unreachable until then (the soak times its return
    after a proxy kill by this REGISTERED)."""
    room = n1_room(room_factory, max_expires=2)
    line, log = line_factory(room, "arm1", "secret-1", keepalive=0)
    log.wait(K.REGISTERED, 5)
    room.stop()
    room.start()
    assert log.wait(K.REGISTRATION_LOST, 8).reason == "the proxy restarted"
    log.wait(K.REGISTERED, 5, count=2)
    assert line.registration.state is RegistrationState.REGISTERED


def test_proxy_restart_is_noticed_and_calls_reach_the_desk_again(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    """Kamailio keeps registrations in memory: after a restart it knows no desk until
    they register again. The boot id in its replies tells the desk to do so at once."""
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1", keepalive=0.3)
    log.wait(K.REGISTERED, 5)
    room.stop()
    room.start()
    assert log.wait(K.REGISTRATION_LOST, 5).reason == "the proxy restarted"
    log.wait(K.REGISTERED, 5, count=2)
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, talk_ms=200), proxy=(room.host, room.port), service="15"
    ).start()
    assert log.wait(K.ANSWERED, 10).line == "15"
    assert sipp.wait(20) == 0, sipp.errors
