"""SIP over TLS to the room's Kamailio (tls module), with certificates made by the test."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.line import EndReason
from telephony.line import LineEventKind as K
from telephony.sip import RegistrationState, SipLine
from telephony.sip.tls import StreamFramer, TlsTransport
from tests.telephony.conftest import EventLog

from ..certs import Authority
from .conftest import DOMAIN, REPO, answer_on_ring, call_of, n1_room
from .test_phone_cli import RUN, _wait_for

pytestmark = pytest.mark.peers


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "pki")


def _tls_room(
    room_factory: Callable[..., KamailioRoom],
    authority: Authority,
    hosts: tuple[str, ...] = ("127.0.0.1",),
) -> KamailioRoom:
    proxy = authority.issue("proxy", hosts=hosts)
    return n1_room(room_factory, tls=(proxy.cert, proxy.key))


def _tls_line(
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    room: KamailioRoom,
    authority: Authority,
    user: str = "arm1",
    password: str = "secret-1",
    **kw: Any,
) -> tuple[SipLine, EventLog]:
    return line_factory(
        room, user, password, port=room.tls_port, transport="tls", tls_ca_file=authority.file, **kw
    )


def test_registers_over_tls_and_a_udp_caller_reaches_the_desk_over_it(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
    authority: Authority,
    tmp_path: Path,
) -> None:
    room = _tls_room(room_factory, authority)
    line, log = _tls_line(line_factory, room, authority, record_dir=tmp_path / "rec")
    assert log.wait(K.REGISTERED, 5).reason == "expires=3600"
    assert isinstance(line._transport, TlsTransport)  # no UDP socket for SIP at all
    answer_on_ring(line, log)
    # the trunk's caller speaks UDP to the proxy; the proxy reaches the desk only over
    # the desk's own TLS connection (the registered contact is ;transport=tls)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, caller="0612345678", talk_ms=800),
        proxy=(room.host, room.port),
        service="15",
    ).start()
    ringing = log.wait(K.RINGING, 10)
    assert (ringing.line, ringing.caller) == ("15", "0612345678")
    log.wait(K.ANSWERED, 5)
    assert log.wait(K.ENDED, 10).reason == EndReason.REMOTE_HANGUP
    assert sipp.wait(20) == 0, sipp.errors
    assert Path(log.wait(K.RECORDING, 5).path).exists()


def test_a_call_between_two_desks_over_tls(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    authority: Authority,
) -> None:
    room = _tls_room(room_factory, authority)
    desk, dlog = _tls_line(line_factory, room, authority)
    patient, plog = _tls_line(line_factory, room, authority, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    patient_call = patient.dial("15")  # INVITE, 407 challenge, ACK, all over TLS
    desk_call = dlog.wait(K.ANSWERED, 10).call_id
    plog.wait(K.ANSWERED, 5)
    rtp = call_of(patient, patient_call).rtp
    assert rtp is not None
    deadline = time.monotonic() + 5
    while rtp.packets_in <= 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rtp.packets_in > 10  # media flows (RTP stays on UDP)
    desk.hangup(desk_call)  # BYE over TLS, routed by the proxy's record-route
    assert plog.wait(K.ENDED, 5).reason == EndReason.REMOTE_HANGUP


@pytest.mark.parametrize("wrong", ["other CA", "other name"])
def test_a_certificate_that_does_not_verify_is_refused(
    wrong: str,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    authority: Authority,
    tmp_path: Path,
) -> None:
    if wrong == "other CA":  # signed by a CA the desk does not trust
        room = _tls_room(room_factory, Authority(tmp_path / "rogue", name="CA inconnue"))
    else:  # trusted CA, but issued to another host
        room = _tls_room(room_factory, authority, hosts=("proxy.ailleurs.example",))
    started = time.monotonic()
    line, log = _tls_line(line_factory, room, authority)
    failed = log.wait(K.REGISTRATION_FAILED, 5)
    assert time.monotonic() - started < 5
    assert failed.reason.startswith("certificat TLS du proxy refusé")
    assert line.registration.state is RegistrationState.FAILED
    time.sleep(1.0)  # final: no retry, no registration behind the user's back
    assert K.REGISTERED not in [e.kind for e in log.events]
    assert log.kinds().count("registration_failed") == 1
    started = time.monotonic()
    line.stop()
    assert time.monotonic() - started < 2.5


def test_stream_framing_by_content_length() -> None:
    framer = StreamFramer()
    one = b"OPTIONS sip:x SIP/2.0\r\nl: 4\r\nVia: SIP/2.0/TLS h\r\n\r\nabcd"
    two = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    stream = b"\r\n\r\n" + one + two + one
    out: list[bytes] = []
    for i in range(0, len(stream), 7):  # arriving in small pieces, cut anywhere
        out += framer.feed(stream[i : i + 7])
    assert out == [one, two, one]
    with pytest.raises(ValueError):
        StreamFramer().feed(b"INVITE sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n")
    with pytest.raises(ValueError):
        StreamFramer().feed(b"X" * 20000)


def test_desk_command_line_builds_a_tls_line(
    room_factory: Callable[..., KamailioRoom], authority: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sasdesk desk --sip-transport tls --sip-ca-file …``: the line the desk starts."""
    from app.cli import build_parser
    from app.cli.desk import sip_line

    room = _tls_room(room_factory, authority)
    monkeypatch.setenv("SASDESK_TEST_SIP_PASSWORD", "secret-1")
    args = build_parser().parse_args(
        [
            "desk", "--sip-server", room.host, "--sip-port", str(room.tls_port),
            "--sip-user", "arm1", "--sip-domain", DOMAIN,
            "--sip-password-env", "SASDESK_TEST_SIP_PASSWORD",
            "--sip-transport", "tls", "--sip-ca-file", str(authority.file),
            "--sip-srtp", "required",
        ]
    )  # fmt: skip
    line = sip_line(args)
    assert (line.config.transport, line.config.tls_ca_file) == ("tls", authority.file)
    assert line.config.srtp == "required"
    registered = threading.Event()
    line.subscribe(lambda e: registered.set() if e.kind == K.REGISTERED else None)
    line.start()
    try:
        assert registered.wait(5)
        assert isinstance(line._transport, TlsTransport)
    finally:
        line.stop()
    args.sip_ca_file = authority.root / "absent.pem"
    with pytest.raises(SystemExit, match="fichier CA introuvable"):
        sip_line(args)


def _phone_tls(room: KamailioRoom, authority_file: Path, events: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-c", RUN, "phone", "--server", room.host,
            "--port", str(room.tls_port), "--user", "arm1", "--password", "secret-1",
            "--domain", DOMAIN, "--sip-transport", "tls", "--sip-ca-file", str(authority_file),
            "--events", str(events), "--duration", "8",
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_phone_command_over_tls(
    room_factory: Callable[..., KamailioRoom], authority: Authority, tmp_path: Path
) -> None:
    room = _tls_room(room_factory, authority)
    events = tmp_path / "ok.jsonl"
    proc = _phone_tls(room, authority.file, events)
    try:
        assert _wait_for(events, "registered")["reason"] == "expires=3600"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert proc.returncode == 0
    # a proxy whose certificate the CA given did not sign: refused, exit 2, no hang
    rogue = Authority(tmp_path / "rogue", name="CA inconnue")
    events = tmp_path / "refused.jsonl"
    started = time.monotonic()
    proc = _phone_tls(room, rogue.file, events)
    _out, err = proc.communicate(timeout=15)
    assert proc.returncode == 2, err
    assert time.monotonic() - started < 8  # not the --duration: it gave up at once
    reason = _wait_for(events, "registration_failed")["reason"]
    assert reason.startswith("certificat TLS du proxy refusé"), reason
