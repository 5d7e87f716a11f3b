"""Wideband: G.722 chosen whenever the trunk offers it, the recording at 16 kHz."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from telephony.audio.g722 import G722Stream, decode_wide, encode_wide
from telephony.audio.recorder import read_recording
from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.line import LineEventKind as K
from telephony.sip import SipLine, sdp
from tests.telephony.conftest import EventLog

from .conftest import DOMAIN, answer_on_ring, call_of, n1_room
from .media import best_alignment, speech_like_signal, write_rtp_pcap


def _band_rms(pcm: np.ndarray, low: float, high: float, rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / rate)
    return float(np.sqrt(spectrum[(freqs >= low) & (freqs < high)].sum() / len(pcm) ** 2))


def wideband_signal(seconds: float = 3.0) -> np.ndarray:
    """16 kHz test audio with as much energy above 4 kHz (what G.711 cannot carry) as
    below: a narrowband speech-like signal plus a 5-7 kHz sweep."""
    low = np.repeat(speech_like_signal(seconds).astype(np.float64), 2) * 0.5
    t = np.arange(len(low)) / 16000
    high = np.sin(2 * np.pi * (5000 * t + 2000 / (2 * seconds) * t**2)) * 6000
    return np.clip(low + high, -32767, 32767).astype(np.int16)


def test_the_g722_codec_carries_the_band_above_4_khz() -> None:
    signal = wideband_signal(1.0)
    out = decode_wide(encode_wide(signal))
    assert len(out) == len(signal)
    assert _band_rms(out, 4500, 7500) > 0.8 * _band_rms(signal, 4500, 7500)
    _offset, corr = best_alignment(out, signal)
    assert corr > 0.95, corr
    # the 8 kHz path of a call: the desk's microphone encoded, the lower band decoded
    stream = G722Stream()
    mic = speech_like_signal(1.0)
    frames = [stream.encode(mic[i : i + 160]) for i in range(0, len(mic), 160)]
    assert all(len(f) == 160 for f in frames)  # 64 kbit/s: 160 bytes per 20 ms
    heard = np.concatenate([G722Stream().decode_narrow(b"".join(frames))])
    assert best_alignment(heard, mic)[1] > 0.95


@pytest.mark.parametrize(
    ("offer", "supported", "chosen"),
    [
        ([9, 0, 8], ["G722", "PCMU", "PCMA"], 9),
        ([8, 0, 9], ["G722", "PCMU", "PCMA"], 9),  # HD voice whenever the trunk carries it
        ([8, 0], ["G722", "PCMU", "PCMA"], 8),  # no G.722: the offerer's G.711 order
        ([0, 8], ["G722", "PCMU", "PCMA"], 0),
        ([9, 0], ["PCMU", "PCMA"], 0),  # a desk configured narrowband only
        ([9], ["PCMU", "PCMA"], None),
    ],
)
def test_codec_choice(offer: list[int], supported: list[str], chosen: int | None) -> None:
    media = sdp.MediaDescription("127.0.0.1", 4000, offer)
    assert sdp.choose_codec(media, supported) == chosen


def test_our_offer_puts_g722_first_with_its_8000_clock() -> None:
    body = sdp.build("127.0.0.1", 4000, [sdp.BY_NAME[c] for c in ("G722", "PCMU", "PCMA")])
    text = body.decode()
    assert "m=audio 4000 RTP/AVP 9 0 8 101" in text
    assert "a=rtpmap:9 G722/8000" in text  # RFC 3551: 8000 although it samples at 16 kHz


@pytest.mark.peers
def test_a_g722_call_is_recorded_at_16_khz(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    signal = wideband_signal(3.0)
    payload = encode_wide(signal)
    pcap = tmp_path / "g722.pcap"
    write_rtp_pcap(pcap, [payload[i : i + 160] for i in range(0, len(payload), 160)], 9)
    room = n1_room(room_factory)
    line, log = line_factory(room, "arm1", "secret-1", record_dir=tmp_path / "rec")
    log.wait(K.REGISTERED, 5)
    answer_on_ring(line, log)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, codec="G722", pcap=pcap, talk_ms=3800),
        proxy=(room.host, room.port),
        service="15",
    ).start()
    answered = log.wait(K.ANSWERED, 10)
    assert call_of(line, answered.call_id).payload_type == 9
    path = Path(log.wait(K.RECORDING, 15).path)
    assert sipp.wait(20) == 0, sipp.errors
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 16000
    remote, desk = read_recording(path)
    reference = decode_wide(payload)  # what any G.722 decoder makes of the stream sent
    offset, corr = best_alignment(remote, reference)
    assert corr > 0.95, corr
    heard = remote[offset : offset + len(reference)]
    # the band G.711 drops is there: the recording kept the call's bandwidth
    assert _band_rms(heard, 4500, 7500) > 0.8 * _band_rms(reference, 4500, 7500)
    # the null device sent silence: G.722 decodes it to a few LSB of ADPCM noise
    assert np.abs(desk).max() < 16


@pytest.mark.peers
def test_two_desks_talk_g722_and_an_offer_without_it_still_gets_g711(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    desk, dlog = line_factory(room, "arm1", "secret-1", record_dir=tmp_path / "rec")
    patient, plog = line_factory(room, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    patient_call = patient.dial("15")
    desk_call = dlog.wait(K.ANSWERED, 10).call_id
    plog.wait(K.ANSWERED, 5)
    assert call_of(desk, desk_call).payload_type == 9  # both ours: wideband
    assert call_of(patient, patient_call).payload_type == 9
    patient.hangup(patient_call)
    with wave.open(dlog.wait(K.RECORDING, 5).path, "rb") as w:
        assert w.getframerate() == 16000
    # a trunk that offers only G.711: A-law, an 8 kHz recording
    sipp = sipp_factory(
        caller_scenario(DOMAIN, codec="PCMA", talk_ms=500),
        proxy=(room.host, room.port),
        service="15",
    ).start()
    call = dlog.wait(K.ANSWERED, 10, count=2).call_id
    assert call_of(desk, call).payload_type == 8
    assert sipp.wait(20) == 0, sipp.errors
    with wave.open(dlog.wait(K.RECORDING, 10, count=2).path, "rb") as w:
        assert w.getframerate() == 8000
