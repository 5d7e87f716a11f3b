"""Audio: what the caller says is what the desk records (both codecs, both directions)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from telephony.audio import g711
from telephony.audio.device import AudioPort, SignalSource, open_audio
from telephony.audio.recorder import read_recording
from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import PCAPS, Sipp, caller_scenario
from telephony.line import LineEventKind as K
from telephony.sip import SipLine
from tests.telephony.conftest import EventLog
from tests.waits import wait_until

from .conftest import DOMAIN, REPO, answer_on_ring, call_of, n1_room
from .media import (
    best_alignment,
    pcap_signal,
    reference_g711_roundtrip,
    speech_like_signal,
    wait_played,
    write_pcap,
)


def _matching_fraction(recorded: np.ndarray, reference: np.ndarray, offset: int) -> float:
    seg = recorded[offset : offset + len(reference)]
    return float(np.mean(seg == reference[: len(seg)]))


@pytest.mark.peers
@pytest.mark.parametrize("codec", ["PCMA", "PCMU"])
def test_recording_matches_what_the_caller_sent(
    codec: str,
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    if codec == "PCMA":
        pcap = PCAPS / "g711a.pcap"  # SIPp's own recording, 30 ms packets
    else:
        pcap = tmp_path / "pcmu.pcap"
        write_pcap(pcap, speech_like_signal(3.0), g711.PCMU)
    reference = pcap_signal(pcap)
    room = n1_room(room_factory)
    line, log = line_factory(
        room, "arm1", "secret-1", record_dir=tmp_path / "rec", codecs=("PCMU", "PCMA")
    )
    log.wait(K.REGISTERED, 5)
    answer_on_ring(line, log)
    talk_ms = int(len(reference) / 8) + 800
    sipp = sipp_factory(
        caller_scenario(DOMAIN, codec=codec, pcap=pcap, talk_ms=talk_ms),
        proxy=(room.host, room.port),
        service="15",
    ).start()
    answered = log.wait(K.ANSWERED, 10)
    rx_levels: list[float] = []

    def meter_moves() -> bool:  # read like the desk reads it, several times a second
        rx_levels.append(line.levels(answered.call_id)[0])
        return rx_levels[-1] > -40

    wait_until(meter_moves, lambda: f"the level meter moves while the caller speaks {rx_levels}")
    recording = log.wait(K.RECORDING, talk_ms / 1000 + 10)
    assert sipp.wait(20) == 0, sipp.errors
    path = Path(recording.path)
    assert path.parent == tmp_path / "rec" and path.suffix == ".wav"
    assert not list((tmp_path / "rec").glob("*.raw"))
    remote, desk = read_recording(path)
    offset, corr = best_alignment(remote, reference)
    assert corr > 0.99, corr
    # G.711 decoding is exact: the aligned samples are the very samples SIPp sent
    assert _matching_fraction(remote, reference, offset) > 0.98
    assert not desk.any()  # the desk's side: the null device sent silence


@pytest.mark.peers
@pytest.mark.parametrize("codec", ["PCMA", "PCMU"])
def test_desk_audio_reaches_the_other_side(
    codec: str,
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    """Desk to desk through the proxy: the sending path encodes the negotiated codec
    (pyVoIP 1.6.8, which telephony/sip replaced, sent μ-law bytes as PCMA)."""
    room = n1_room(room_factory)
    signal = speech_like_signal(2.0)
    callee, clog = line_factory(
        room, "arm1", "secret-1", record_dir=tmp_path / "callee", codecs=(codec,)
    )
    caller, olog = line_factory(
        room,
        "osnp1",
        "secret-osnp",
        record_dir=tmp_path / "caller",
        audio_factory=lambda: SignalSource(signal),
    )
    clog.wait(K.REGISTERED, 5)
    olog.wait(K.REGISTERED, 5)
    answer_on_ring(callee, clog)
    call_id = caller.dial("arm1")
    olog.wait(K.ANSWERED, 10)
    assert call_of(caller, call_id).payload_type == g711.BY_NAME[codec]
    wait_played(callee, clog.wait(K.ANSWERED, 5).call_id, len(signal))
    caller.hangup(call_id)
    received = Path(clog.wait(K.RECORDING, 5).path)
    sent = Path(olog.wait(K.RECORDING, 5).path)
    remote, _ = read_recording(received)
    expected = reference_g711_roundtrip(signal, codec)
    offset, corr = best_alignment(remote, expected)
    assert corr > 0.99, corr
    assert _matching_fraction(remote, expected, offset) > 0.98
    _, mine = read_recording(sent)
    assert best_alignment(mine, signal)[1] > 0.999  # the desk's own side, as spoken


@pytest.mark.peers
@pytest.mark.parametrize("codec", ["PCMU", "G722"])
def test_mute_sends_silence_and_the_meter_shows_it(
    codec: str,
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    room = n1_room(room_factory)
    signal = speech_like_signal(1.0)
    callee, clog = line_factory(room, "arm1", "secret-1", codecs=(codec,))
    caller, olog = line_factory(
        room, "osnp1", "secret-osnp", audio_factory=lambda: SignalSource(signal, loop=True)
    )
    clog.wait(K.REGISTERED, 5)
    olog.wait(K.REGISTERED, 5)
    answer_on_ring(callee, clog)
    call_id = caller.dial("arm1")
    answered = clog.wait(K.ANSWERED, 10)

    def heard() -> float:
        return callee.levels(answered.call_id)[0]

    def sent() -> float:
        return caller.levels(call_id)[1]

    wait_until(lambda: heard() > -30 and sent() > -30, lambda: f"speech ({heard()}, {sent()})")
    caller.set_mute(call_id, True)
    if codec == "PCMU":  # G.711 silence decodes to exact zeros
        wait_until(lambda: heard() == -120.0, lambda: f"silence heard (level {heard()})")
    else:  # G.722 decodes digital silence to a few LSB of ADPCM noise
        wait_until(lambda: heard() < -80.0, lambda: f"silence heard (level {heard()})")
    assert sent() == -120.0
    caller.set_mute(call_id, False)
    wait_until(lambda: heard() > -30, lambda: f"speech again (level {heard()})")
    caller.hangup(call_id)


def test_null_device_when_there_is_no_sound_card() -> None:
    port = open_audio(use_headset=True)
    try:
        import sounddevice as sd

        devices = sd.query_devices()
    except OSError:
        devices = []
    if not len(devices):
        assert type(port) is AudioPort and port.name == "null"
    frame = port.read()
    assert frame.dtype == np.int16 and len(frame) == 160
    port.write(frame)
    port.close()


HEADSET_PROBE = """
import time
import numpy as np
from telephony.audio.device import open_audio
port = open_audio(use_headset=True)
print(port.name)
time.sleep(0.3)
print(len(port._mic))  # frames captured by the PortAudio callback
for _ in range(5):
    port.write(np.ones(160, np.int16))
time.sleep(0.3)
print(len(port._speaker))  # frames played (taken by the callback)
pulled = []
port.attach_playout(lambda: pulled.append(1) or np.ones(160, np.int16))
time.sleep(0.3)
print(len(pulled))  # the device's clock pulls the line's playout
port.close()
"""


@pytest.mark.peers  # libportaudio2, installed by scripts/install-peers.sh
def test_headset_through_portaudio(tmp_path: Path) -> None:
    """A real PortAudio stream, on ALSA's null device (no sound card needed)."""
    (tmp_path / ".asoundrc").write_text("pcm.!default {\n  type null\n}\n")
    env = {**os.environ, "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", HEADSET_PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    name, captured, left, pulled = out.stdout.split()
    assert name == "headset"
    assert int(captured) >= 5  # 20 ms frames keep coming from the microphone side
    assert int(left) == 0  # and what the line writes is played
    assert int(pulled) >= 5  # once attached, the callback pulls 20 ms at a time


@pytest.mark.peers
def test_a_whispering_caller_is_brought_up_on_the_desk(
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    """A caller 25 dB below normal speech: the desk's earpiece plays it at speech level,
    the recording keeps the caller's real level."""
    from telephony.audio.capture import CapturePort
    from telephony.audio.device import level_dbfs
    from telephony.audio.quality import REFERENCE, attenuate, read_mono

    whisper = attenuate(read_mono(REFERENCE)[: 6 * 8000], 25)
    room = n1_room(room_factory)
    headset = CapturePort()
    desk, dlog = line_factory(
        room, "arm1", "secret-1", record_dir=tmp_path / "rec", audio_factory=lambda: headset
    )
    caller, clog = line_factory(
        room, "osnp1", "secret-osnp", audio_factory=lambda: SignalSource(whisper)
    )
    dlog.wait(K.REGISTERED, 5)
    clog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    call_id = caller.dial("arm1")
    clog.wait(K.ANSWERED, 10)
    wait_played(desk, dlog.wait(K.ANSWERED, 5).call_id, len(whisper))
    caller.hangup(call_id)
    remote, _ = read_recording(Path(dlog.wait(K.RECORDING, 5).path))
    headset.close()
    played = headset.played()
    sent_level = level_dbfs(whisper[2 * 8000 :])
    assert sent_level < -40
    tail = whisper[2 * 8000 :]  # once the gain has risen
    offset, corr = best_alignment(played, tail)
    # The same speech, louder. Not 0.9: on a loaded 2-core machine the jitter buffer
    # conceals a few late packets, which lowers the correlation without changing what
    # this test is about (the gain).
    assert corr > 0.8
    assert level_dbfs(played[offset : offset + len(tail)]) > sent_level + 12
    rec_offset, _ = best_alignment(remote, tail)
    assert abs(level_dbfs(remote[rec_offset : rec_offset + len(tail)]) - sent_level) < 1
