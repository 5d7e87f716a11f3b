"""DTMF both ways, OPTIONS, and a batch of malformed or unusual SIP messages."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import PCAPS, Sipp, caller_scenario
from telephony.line import EndReason
from telephony.line import LineEventKind as K
from telephony.sip import SipLine
from telephony.sip.message import SipMessage, parse
from tests.telephony.conftest import EventLog

from .conftest import DOMAIN, answer_on_ring, call_of, n1_room

pytestmark = pytest.mark.peers


def test_dtmf_received_from_the_caller(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1")
    log.wait(K.REGISTERED, 5)
    answer_on_ring(line, log)
    pcaps = [PCAPS / f"dtmf_2833_{d}.pcap" for d in ("1", "5", "pound", "0")]
    sipp = sipp_factory(
        caller_scenario(DOMAIN, dtmf_pcaps=pcaps, talk_ms=600),
        proxy=(room.host, room.port),
        service="116117",
    ).start()
    log.wait(K.ENDED, 15)
    assert sipp.wait(20) == 0, sipp.errors
    assert [e.digit for e in log.of(K.DTMF)] == ["1", "5", "#", "0"]


def test_dtmf_sent_by_the_desk(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    callee, clog = line_factory(room, "arm1", "secret-1")
    caller, olog = line_factory(room, "osnp1", "secret-osnp")
    clog.wait(K.REGISTERED, 5)
    olog.wait(K.REGISTERED, 5)
    answer_on_ring(callee, clog)
    call_id = caller.dial("arm1")
    olog.wait(K.ANSWERED, 10)
    caller.send_dtmf(call_id, "12#*9")
    clog.wait(K.DTMF, 5, count=5)
    assert [e.digit for e in clog.of(K.DTMF)] == ["1", "2", "#", "*", "9"]
    with pytest.raises(ValueError):
        caller.send_dtmf(call_id, "x")
    caller.hangup(call_id)
    assert clog.wait(K.ENDED, 5).reason == EndReason.REMOTE_HANGUP


class RawPeer:
    """A UDP socket speaking raw SIP to the desk, as a broken or unusual peer would."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.port = self.sock.getsockname()[1]

    def send(self, dest: int, text: str | bytes) -> None:
        data = text if isinstance(text, bytes) else text.replace("\n", "\r\n").encode()
        self.sock.sendto(data, ("127.0.0.1", dest))

    def expect(self, status: int, timeout: float = 2.0) -> SipMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                break
            msg = parse(data)
            if msg.status == status:
                return msg
        raise AssertionError(f"no {status} received")

    def close(self) -> None:
        self.sock.close()


def _options(port: int, call_id: str, compact: bool = False) -> str:
    if compact:
        return (
            f"OPTIONS sip:arm1@127.0.0.1 SIP/2.0\nv: SIP/2.0/UDP 127.0.0.1:{port};branch="
            f"z9hG4bK{call_id}\nf: <sip:probe@x>;tag=1\nt: <sip:arm1@x>\ni: {call_id}\n"
            "CSeq: 1 OPTIONS\nl: 0\n\n"
        )
    return (
        f"OPTIONS sip:arm1@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch="
        f"z9hG4bK{call_id}\nFrom: <sip:probe@x>;tag=1\nTo: <sip:arm1@x>\nCall-ID: {call_id}\n"
        "CSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n"
    )


def test_options_answered_directly_and_through_the_proxy(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1")
    log.wait(K.REGISTERED, 5)
    peer = RawPeer()
    try:
        peer.send(line.local_port, _options(peer.port, "opt-1"))
        ok = peer.expect(200)
        assert "INVITE" in ok.get("allow") and "REFER" in ok.get("allow")
        assert ok.call_id == "opt-1"
        # through Kamailio, to the desk's AOR
        peer.send(
            room.port,
            _options(peer.port, "opt-2").replace(
                "OPTIONS sip:arm1@127.0.0.1", "OPTIONS sip:arm1@sas.local"
            ),
        )
        assert peer.expect(200).call_id == "opt-2"
    finally:
        peer.close()


def _invite(port: int, call_id: str) -> str:
    body = (
        "v=0\no=x 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
    )
    length = len(body.replace("\n", "\r\n"))  # RawPeer.send writes CRLF
    # compact headers, a folded Subject, a Via given in two header lines
    return (
        f"INVITE sip:arm1@127.0.0.1 SIP/2.0\n"
        f"v: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKinv{call_id}\n"
        f'f: "Patient" <sip:0611223344@x>;tag=raw1\nt: <sip:116117@x>\n'
        f"i: {call_id}\nCSeq: 7 INVITE\nm: <sip:raw@127.0.0.1:{port}>\n"
        f"Subject: a folded\n  subject line\nc: application/sdp\nl: {length}\n\n"
    ) + body


def test_malformed_and_unusual_messages_neither_crash_nor_wedge_the_line(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1")
    log.wait(K.REGISTERED, 5)
    peer = RawPeer()
    port, me = line.local_port, peer.port
    garbage: list[str | bytes] = [
        b"\x00\xff\xfe garbage \x80\x81",
        b"\r\n\r\n",  # keep-alive
        "INVITE sip:arm1@127.0.0.1 SIP/2.0\n\n",  # no header at all
        "HELLO\n\n",
        "INVITE sip:arm1@127.0.0.1 SIP/3.0\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\n\n",
        _options(me, "bad-cseq").replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS"),
        _options(me, "bad-len").replace("Content-Length: 0", "Content-Length: 500"),
        _options(me, "no-callid").replace("Call-ID: no-callid\n", ""),
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnobody\nFrom: <sip:a@b>;tag=1"
        "\nTo: <sip:c@d>;tag=2\nCall-ID: stray\nCSeq: 1 INVITE\n\n",  # answer to nothing
        "SIP/2.0 999 Nonsense\nVia: x\nFrom: a\nTo: b\nCall-ID: c\nCSeq: 1 BYE\n\n",
        b"OPTIONS sip:arm1@127.0.0.1 SIP/2.0\r\nVia: \xff\xfe\r\n\r\n",
        "OPTIONS sip:arm1@127.0.0.1 SIP/2.0\n" + "X-Long: " + "a" * 60000 + "\n\n",
    ]
    try:
        for datagram in garbage:
            peer.send(port, datagram)
        # answered with an error, not ignored: a BYE and a re-INVITE for unknown dialogs,
        # an unknown method, an INVITE with an unreadable body
        peer.send(port, _options(me, "bye-x").replace("OPTIONS", "BYE"))
        assert peer.expect(481).call_id == "bye-x"
        peer.send(
            port, _invite(me, "reinv-x").replace("t: <sip:116117@x>", "t: <sip:116117@x>;tag=nope")
        )
        assert peer.expect(481).call_id == "reinv-x"
        peer.send(port, _options(me, "foo-x").replace("OPTIONS", "FOO"))
        assert peer.expect(405).call_id == "foo-x"
        needs_100rel = _invite(me, "req-x").replace("Subject:", "Require: 100rel\nSubject:")
        peer.send(port, needs_100rel)
        assert peer.expect(420).get("unsupported") == "100rel"
        bad_sdp = _invite(me, "sdp-x").replace("m=audio 40000", "m=video 40000")
        peer.send(port, bad_sdp)
        assert peer.expect(488).call_id == "sdp-x"
        # compact and folded headers are read: an OPTIONS and a whole INVITE
        peer.send(port, _options(me, "compact-1", compact=True))
        assert peer.expect(200).call_id == "compact-1"
        peer.send(port, _invite(me, "compact-inv"))
        ringing = log.wait(K.RINGING, 3)
        assert (ringing.line, ringing.caller) == ("116117", "0611223344")
        peer.expect(180)
        peer.send(
            port,
            f"CANCEL sip:arm1@127.0.0.1 SIP/2.0\nv: SIP/2.0/UDP 127.0.0.1:{me};"
            f"branch=z9hG4bKinvcompact-inv\nf: <sip:0611223344@x>;tag=raw1\n"
            f"t: <sip:116117@x>\ni: compact-inv\nCSeq: 7 CANCEL\nl: 0\n\n",
        )
        assert peer.expect(487).call_id == "compact-inv"
        assert log.wait(K.ENDED, 3).reason == EndReason.CALLER_GAVE_UP
    finally:
        peer.close()
    assert line.stats["malformed"] >= 10
    # the line still works: registered, and a real call goes through
    assert line.registration.state == "registered"
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, talk_ms=300), proxy=(room.host, room.port), service="15"
    ).start()
    assert log.wait(K.ANSWERED, 10).line == "15"
    assert sipp.wait(20) == 0, sipp.errors


def test_late_offer_invite_without_sdp(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    """Some gateways send the INVITE without SDP: we offer in the 200, they answer in
    the ACK, and audio flows to where the ACK said."""
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1")
    log.wait(K.REGISTERED, 5)
    answer_on_ring(line, log)
    peer = RawPeer()
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    media.settimeout(2.0)
    try:
        invite = _invite(peer.port, "late-1").split("\n\n")[0].replace("c: application/sdp\n", "")
        invite = invite.rsplit("\nl: ", 1)[0] + "\nl: 0\n\n"
        peer.send(line.local_port, invite)
        ok = peer.expect(200, timeout=3)
        offer = ok.body.decode()
        assert "m=audio" in offer and "RTP/AVP 9 0 8 101" in offer  # G.722 first
        answer = (
            "v=0\no=x 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=audio {media.getsockname()[1]} RTP/AVP 8\na=rtpmap:8 PCMA/8000\n"
        )
        to = ok.get("to")
        peer.send(
            line.local_port,
            f"ACK sip:arm1@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{peer.port};branch="
            f"z9hG4bKack1\nFrom: <sip:0611223344@x>;tag=raw1\nTo: {to}\nCall-ID: late-1\n"
            f"CSeq: 7 ACK\nContent-Type: application/sdp\n"
            f"Content-Length: {len(answer.replace(chr(10), chr(13) + chr(10)))}\n\n{answer}",
        )
        answered = log.wait(K.ANSWERED, 3)
        packet = media.recv(2048)
        assert packet[1] & 0x7F == 8  # the desk sends PCMA, as the ACK's answer chose
        assert call_of(line, answered.call_id).payload_type == 8
    finally:
        peer.close()
        media.close()
