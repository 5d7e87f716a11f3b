"""Recording files: placement by RTP timestamp, crash leftovers, retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from telephony.audio.recorder import CallRecorder, purge_recordings, read_recording


def test_received_audio_is_placed_by_timestamp_not_by_arrival(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path / "call.wav")
    frame = np.full(160, 1000, dtype=np.int16)
    rec.tx(np.zeros(160, np.int16))
    rec.rx(0xABC, 5000, frame)
    rec.rx(0xABC, 5000 + 480, frame * 2)  # two packets lost in between
    rec.rx(0xABC, 5000 + 160, frame * 3)  # a late packet, reordered
    path = rec.close()
    remote, desk = read_recording(path)
    assert list(remote[160:161]) == [1000] and list(remote[320:321]) == [3000]
    assert not remote[480:640].any()  # the lost packet stays silent, nothing shifts
    assert list(remote[640:641]) == [2000]
    assert not desk.any() and len(desk) == len(remote)
    assert not list(tmp_path.glob("*.raw"))


def test_raw_sides_are_on_disk_while_the_call_goes_on(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path / "call.wav")
    rec.tx(np.ones(160, np.int16))
    rec._tx.flush()  # noqa: SLF001 - what a crash would leave
    assert (tmp_path / "call.tx.raw").stat().st_size == 320
    rec.close()


def test_retention_deletes_only_old_finished_recordings(tmp_path: Path) -> None:
    old, new = tmp_path / "old.wav", tmp_path / "new.wav"
    raw = tmp_path / "current.rx.raw"
    for path in (old, new, raw):
        path.write_bytes(b"x")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    os.utime(raw, (ten_days_ago, ten_days_ago))
    assert purge_recordings(tmp_path, keep_days=7) == [old]
    assert new.exists() and raw.exists() and not old.exists()
    assert purge_recordings(tmp_path, keep_days=0) == []  # 0: keep everything


def test_a_wideband_call_left_by_a_crash_is_merged_at_16_khz(tmp_path: Path) -> None:
    import wave

    from telephony.audio.recorder import CallRecorder, merge_raw

    rec = CallRecorder(tmp_path / "call.wav")
    rec.wideband()
    rec.rx(7, 5000, np.full(320, -1000, dtype=np.int16), 16000)
    rec.rx(7, 5160, np.full(320, -2000, dtype=np.int16), 16000)  # next 20 ms: 160 ticks
    rec.tx(np.full(160, 1000, dtype=np.int16))  # an 8 kHz frame (hold): repeated to 16 kHz
    rec._rx.flush()  # noqa: SLF001 - what a crash would leave
    rec._tx.flush()  # noqa: SLF001
    # the desk dies here: no close(); the recovery merges what is on disk
    path = merge_raw(tmp_path / "call.wav")
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 16000
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert len(frames) == 640  # two packets of 320 samples, placed 320 samples apart
    assert (frames[:320, 0] == -1000).all() and (frames[320:, 0] == -2000).all()
    assert (frames[:320, 1] == 1000).all() and not frames[320:, 1].any()
    assert not list(tmp_path.glob("call.r*"))  # raw sides and the .rate file are gone
