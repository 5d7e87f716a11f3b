"""SRTP media (SDES, AES_CM_128_HMAC_SHA1_80): a PJSUA2 caller with SRTP mandatory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from telephony.audio.recorder import read_recording
from telephony.audio.srtp import SrtpContext, new_crypto, parse_crypto
from telephony.kamailio import KamailioRoom
from telephony.line import EndReason
from telephony.line import LineEventKind as K
from telephony.sip import SipLine, sdp
from tests.telephony.conftest import EventLog

from .conftest import DOMAIN, answer_on_ring, call_of, n1_room
from .media import best_alignment, reference_g711_roundtrip, speech_like_signal

CALLER = Path(__file__).with_name("pjsua_caller.py")


def _pjsua_call(
    room: KamailioRoom, wav: Path, seconds: float, srtp: str, codec: str = "PCMA/8000"
) -> list[dict]:
    proc = subprocess.run(
        [
            sys.executable, str(CALLER), "--proxy", f"{room.host}:{room.port}",
            "--to", f"sip:15@{DOMAIN}", "--wav", str(wav), "--seconds", str(seconds),
            "--srtp", srtp, "--codec", codec,
        ],
        capture_output=True, text=True, timeout=40,
    )  # fmt: skip
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert events, proc.stderr[-2000:]
    return events


def test_sdes_offer_answer_and_keys() -> None:
    offer = sdp.parse(
        b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 8 101\r\n"
        b"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" + b"A" * 40 + b"\r\n"
        b"a=crypto:2 " + new_crypto(2).attribute().split(" ", 1)[1].encode() + b"\r\n"
    )
    assert offer.secure
    usable = [c for c in map(parse_crypto, offer.crypto) if c]
    assert [c.tag for c in usable] == [2]  # the 32-bit tag suite is not ours
    body = sdp.build("127.0.0.1", 5000, [8], crypto=new_crypto(2).attribute()).decode()
    assert "m=audio 5000 RTP/SAVP 8 101" in body and "a=crypto:2 AES_CM_128_HMAC_SHA1_80" in body
    a, b = new_crypto(), new_crypto()
    alice, bob = SrtpContext(a, b), SrtpContext(b, a)
    packet = bytes(12) + b"voice" * 32
    packet = b"\x80\x08" + packet[2:]
    protected = alice.protect(packet)
    assert protected != packet and bob.unprotect(protected) == packet
    assert bob.unprotect(protected) is None  # replayed
    assert bob.unprotect(packet) is None  # in clear: not authenticated
    assert bob.rejected == 2


@pytest.mark.peers
def test_a_pjsua2_caller_with_mandatory_srtp_is_heard(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    signal = speech_like_signal(3.0)
    wav = tmp_path / "speech.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(signal.astype("<i2").tobytes())
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1", record_dir=tmp_path / "rec")
    log.wait(K.REGISTERED, 5)
    answer_on_ring(line, log)
    events = _pjsua_call(room, wav, 4.0, "mandatory")
    media = [e for e in events if e["event"] == "media"]
    assert media and media[0]["codec"].upper() == "PCMA", events
    answered = log.wait(K.ANSWERED, 1)
    call = line.call_info(answered.call_id)
    # PJSIP offers AES-256 first (tags 1, 2): the answer keeps the tag of the 128-bit one
    assert call is not None and call.local_crypto.startswith("3 AES_CM_128_HMAC_SHA1_80")
    assert call.offer is not None and call.offer.secure
    assert log.wait(K.ENDED, 5).reason == EndReason.REMOTE_HANGUP
    remote, _desk = read_recording(Path(log.wait(K.RECORDING, 5).path))
    expected = reference_g711_roundtrip(signal, "PCMA")
    _offset, corr = best_alignment(remote, expected)
    assert corr > 0.95, corr  # decrypted and authenticated: the caller's very speech
    assert call.rtp is not None and call.rtp.srtp is not None and call.rtp.srtp.rejected == 0


@pytest.mark.peers
def test_a_desk_requiring_srtp_refuses_media_in_clear(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    room = n1_room(room_factory)
    desk, dlog = line_factory(room, "arm1", "secret-1", srtp="required")
    patient, plog = line_factory(room, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    patient.dial("15")  # a plain RTP/AVP offer
    assert plog.wait(K.ENDED, 10).reason == EndReason.FAILED
    assert K.RINGING not in [e.kind for e in dlog.events]  # never presented
    assert desk.stats["rejected_media_security"] == 1
    # the same desk takes an SRTP call: its own outgoing offer is RTP/SAVP only
    caller, clog = line_factory(room, "osnp1", "secret-osnp", srtp="required")
    clog.wait(K.REGISTERED, 5)
    call_id = caller.dial("arm1")
    desk_call = dlog.wait(K.ANSWERED, 10).call_id
    clog.wait(K.ANSWERED, 5)
    rtp = call_of(caller, call_id).rtp
    assert rtp is not None and rtp.srtp is not None
    deadline = time.monotonic() + 5
    while rtp.packets_in < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rtp.packets_in >= 10 and rtp.srtp.rejected == 0
    desk.hangup(desk_call)
    assert clog.wait(K.ENDED, 5).reason == EndReason.REMOTE_HANGUP


@pytest.mark.peers
def test_pjsip_g722_over_srtp_is_recorded_at_16_khz(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    """Our G.722 against PJSIP's own G.722 (an independent implementation), over SRTP."""
    signal = speech_like_signal(3.0)
    wav = tmp_path / "speech16.wav"
    wide = np.repeat(signal, 2)  # 16 kHz file: PJSIP resamples to its bridge as it must
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(wide.astype("<i2").tobytes())
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1", record_dir=tmp_path / "rec")
    log.wait(K.REGISTERED, 5)
    answer_on_ring(line, log)
    events = _pjsua_call(room, wav, 4.0, "mandatory", codec="G722/16000")
    media = [e for e in events if e["event"] == "media"]
    assert media and media[0]["codec"].upper() == "G722", events
    answered = log.wait(K.ANSWERED, 1)
    assert call_of(line, answered.call_id).payload_type == 9
    path = Path(log.wait(K.RECORDING, 10).path)
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 16000
    remote, _desk = read_recording(path)
    # PJSIP's bridge runs at 8 kHz here: compare at 8 kHz, the band both carried
    _offset, corr = best_alignment(remote[::2], signal)
    assert corr > 0.9, corr


@pytest.mark.peers
def test_phone_command_requiring_srtp_refuses_a_call_in_clear(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    from .test_phone_cli import _events, _phone, _wait_for

    room = n1_room(room_factory)
    events = tmp_path / "events.jsonl"
    proc = _phone(room, "--sip-srtp", "required", "--auto-answer", "0", "--events", str(events))
    try:
        _wait_for(events, "registered")
        patient, plog = line_factory(room, "patient", "secret-patient")
        plog.wait(K.REGISTERED, 5)
        patient.dial("15")
        assert plog.wait(K.ENDED, 10).reason == EndReason.FAILED
        assert "ringing" not in [e["kind"] for e in _events(events)]
    finally:
        proc.send_signal(2)
        proc.communicate(timeout=10)
