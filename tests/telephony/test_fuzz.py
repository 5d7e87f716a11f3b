"""Fuzzing: no datagram makes the parsers raise anything but their own error, and a
storm of mutated messages leaves the desk line answering and taking calls."""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.line import LineEventKind as K
from telephony.sip import SipLine, sdp
from telephony.sip.message import SipParseError, parse
from tests.telephony.conftest import EventLog

from .conftest import DOMAIN, answer_on_ring, n1_room
from .test_message import INVITE

SDP = (
    b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        pos = rng.randrange(max(1, len(buf)))
        if op == 0 and buf:
            buf[pos] = rng.randrange(256)  # flip a byte
        elif op == 1:
            del buf[pos : pos + rng.randint(1, 40)]  # cut
        elif op == 2:
            buf[pos:pos] = rng.choice([b"\r\n", b":", b";", b",", b"<", b"\x00", b" \t"])
        elif op == 3:
            line_start = buf.rfind(b"\r\n", 0, pos) + 2
            line_end = buf.find(b"\r\n", pos)
            if line_end > line_start:
                buf[line_end:line_end] = b"\r\n" + buf[line_start:line_end]  # repeat a line
        else:
            buf = buf[: rng.randrange(len(buf) + 1)]  # truncate
    return bytes(buf)


mutations = st.builds(
    lambda seed: _mutate(random.Random(seed), INVITE.encode()), st.integers(0, 2**32)
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=600), mutations))
def test_sip_parser_raises_only_its_own_error(data: bytes) -> None:
    try:
        msg = parse(data)
    except SipParseError:
        return
    msg.encode()  # what it accepted, it can write back


@settings(max_examples=300, deadline=None)
@given(st.builds(lambda seed: _mutate(random.Random(seed), SDP), st.integers(0, 2**32)))
def test_sdp_parser_raises_only_its_own_error(body: bytes) -> None:
    try:
        sdp.parse(body)
    except sdp.SdpError:
        pass


@pytest.mark.peers
def test_a_storm_of_mutated_messages_leaves_the_line_working(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1")
    log.wait(K.REGISTERED, 5)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    me = sock.getsockname()[1]
    rng = random.Random(20261122)
    invite = INVITE.replace("127.0.0.1:5060;branch", f"127.0.0.1:{me};branch")
    methods = ("INVITE", "BYE", "CANCEL", "ACK", "OPTIONS", "NOTIFY", "REFER", "INFO")
    templates = [invite.replace("INVITE", m) for m in methods] + [
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nf: <sip:a@b>;tag=1"
        "\r\nt: <sip:c@d>;tag=2\r\ni: x\r\nCSeq: 1 REGISTER\r\nContact: <sip:arm1@127.0.0.1>"
        ";expires=abc\r\n\r\n"
    ]
    caplog.set_level(logging.ERROR)
    try:
        for i in range(2000):
            text = rng.choice(templates).replace("call-1", f"storm-{rng.randrange(20)}")
            sock.sendto(_mutate(rng, text.encode()), ("127.0.0.1", line.local_port))
            if i % 50 == 0:
                time.sleep(0.01)  # let the line breathe as a real network would
    finally:
        sock.close()
    time.sleep(0.5)  # the storm's tail drains (UDP tells nothing of what is queued)
    assert line.stats["malformed"] > 500
    # no handler failed half-way (a call left half set up would keep the desk busy)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    for event in log.of(K.RINGING):  # whatever rang during the storm is settled
        line.reject(event.call_id)
    assert line.registration.state == "registered"
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, talk_ms=300), proxy=(room.host, room.port), service="15"
    ).start()
    assert log.wait(K.ANSWERED, 10, where=lambda e: e.line == "15").line == "15"
    assert sipp.wait(20) == 0, sipp.errors
