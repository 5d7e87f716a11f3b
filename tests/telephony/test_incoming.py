"""Incoming calls on 15 and 116-117: SIPp callers through Kamailio to the N1 desks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.flow.service import FlowService
from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario, cancel_scenario
from telephony.line import EndReason
from telephony.line import LineEventKind as K
from telephony.sip import SipLine
from tests.telephony.conftest import EventLog

from .conftest import DOMAIN, answer_on_ring, n1_room

pytestmark = pytest.mark.peers


def _register(
    line_factory: Callable[..., tuple[SipLine, EventLog]], room: KamailioRoom, *users: str
) -> list[tuple[SipLine, EventLog]]:
    out = []
    for user in users:
        line, log = line_factory(
            room, user, f"secret-{user[3:]}" if user.startswith("arm") else f"secret-{user[:3]}"
        )
        out.append((line, log))
    for _line, log in out:
        log.wait(K.REGISTERED, 5)
    return out


@pytest.mark.parametrize("service", ["15", "116117"])
def test_call_presented_at_once_with_line_and_caller(
    service: FlowService,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    [(line, log)] = _register(line_factory, room, "arm1")
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, caller="0612345678", talk_ms=500),
        proxy=(room.host, room.port),
        service=service,
    ).start()
    ringing = log.wait(K.RINGING, 10)
    assert ringing.line == service
    assert ringing.caller == "0612345678"
    call = line.call_info(ringing.call_id)
    assert call is not None
    # from the INVITE reaching the desk's socket (kernel time) to the event: < 100 ms
    assert 0 <= ringing.at - call.arrival < 0.1, ringing.at - call.arrival
    log.wait(K.ANSWERED, 5)
    ended = log.wait(K.ENDED, 10)
    assert ended.reason == EndReason.REMOTE_HANGUP  # the caller hung up during the call
    assert sipp.wait(20) == 0, sipp.errors


def test_desk_hangs_up(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    [(line, log)] = _register(line_factory, room, "arm1")
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, hangup="desk", talk_ms=1000),
        proxy=(room.host, room.port),
        service="15",
    ).start()
    answered = log.wait(K.ANSWERED, 10)
    time.sleep(0.3)  # the call talks a moment, as a user's would
    line.hangup(answered.call_id)
    assert log.wait(K.ENDED, 5).reason == EndReason.LOCAL_HANGUP
    assert sipp.wait(20) == 0, sipp.errors  # SIPp received our BYE (through the proxy)


def test_caller_gives_up_while_ringing(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    [(line, log)] = _register(line_factory, room, "arm1")
    sipp = sipp_factory(
        cancel_scenario(DOMAIN, ring_ms=400), proxy=(room.host, room.port), service="116117"
    ).start()
    ringing = log.wait(K.RINGING, 10)
    ended = log.wait(K.ENDED, 5)
    assert ended.reason == EndReason.CALLER_GAVE_UP  # a missed call for the hub
    assert ended.line == "116117" and ended.call_id == ringing.call_id
    # SIPp's scenario requires the 200 to its CANCEL and the 487 to its INVITE
    assert sipp.wait(20) == 0, sipp.errors
    assert line.agent_state == "ready"


def test_fork_to_three_desks_one_answers_the_others_stop(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory, n=3)
    desks = _register(line_factory, room, "arm1", "arm2", "arm3")
    answering, alog = desks[1]
    answer_on_ring(answering, alog, delay=0.3)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, talk_ms=500), proxy=(room.host, room.port), service="15"
    ).start()
    for _line, log in desks:
        assert log.wait(K.RINGING, 10).line == "15"
    alog.wait(K.ANSWERED, 5)
    for i in (0, 2):
        ended = desks[i][1].wait(K.ENDED, 5)
        assert ended.reason == EndReason.ANSWERED_ELSEWHERE
        assert K.ANSWERED not in [e.kind for e in desks[i][1].events]
    assert alog.wait(K.ENDED, 10).reason == EndReason.REMOTE_HANGUP
    assert sipp.wait(20) == 0, sipp.errors


def test_paused_desk_does_not_ring_the_fork_goes_on(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory, n=2)
    (paused, plog), (ready, rlog) = _register(line_factory, room, "arm1", "arm2")
    paused.pause("pause déjeuner")
    assert paused.agent_state == "paused"
    answer_on_ring(ready, rlog)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, talk_ms=300), proxy=(room.host, room.port), service="15"
    ).start()
    rlog.wait(K.ANSWERED, 10)
    assert sipp.wait(20) == 0, sipp.errors
    assert K.RINGING not in [e.kind for e in plog.events]
    assert plog.kinds() == ["registered"]  # nothing presented on the paused desk
    assert paused.stats["rejected_busy"] == 1  # it answered 486


def test_line_from_diversion_when_the_proxy_did_not_mark_it(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    """A call redirected straight to a desk: the line is the number first dialled."""
    room = n1_room(room_factory)
    [(line, log)] = _register(line_factory, room, "arm1")
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(
            DOMAIN,
            caller="0699887766",
            talk_ms=200,
            extra_headers=(
                "Diversion: <sip:116117@sas.local>;reason=unconditional\n"
                "P-Asserted-Identity: <sip:+33699887766@operator.example>"
            ),
        ),
        proxy=(room.host, room.port),
        service="arm1",
    ).start()
    ringing = log.wait(K.RINGING, 10)
    assert ringing.line == "116117"
    assert ringing.caller == "+33699887766"
    assert sipp.wait(20) == 0, sipp.errors


def test_line_from_p_called_party_id(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    [(line, log)] = _register(line_factory, room, "arm1")
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, talk_ms=200, extra_headers="P-Called-Party-ID: <sip:15@sas.local>"),
        proxy=(room.host, room.port),
        service="arm1",
    ).start()
    ringing = log.wait(K.RINGING, 10)
    assert (ringing.line, ringing.caller) == ("15", "0612345678")
    assert sipp.wait(20) == 0, sipp.errors
