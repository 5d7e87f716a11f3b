"""Call recording: one stereo WAV per call, left = remote party, right = desk.

Both directions are written to raw files as the call goes (a desk crash leaves them
on disk), at their sample position (the received side by RTP timestamp, so jitter
and lost packets do not shift the audio), and merged into the WAV at the end.

The WAV keeps the call's bandwidth: 8 kHz for G.711, 16 kHz for G.722 (the rate is
fixed by :meth:`CallRecorder.wideband` before the first sample; the RTP clock stays
8000 per RFC 3551, so a received timestamp counts two samples). A wideband call leaves
a ``.rate`` file beside its raw sides, so the raw files of a desk that crashed are
merged at their own rate.
"""

from __future__ import annotations

import os
import re
import threading
import time
import wave
from pathlib import Path

import numpy as np

RATE = 8000
MAX_JUMP = RATE * 600  # a timestamp jump beyond 10 min is noise, not audio


def recording_path(directory: Path, call_id: str, at: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(at or time.time()))
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", call_id)[:60]
    return directory / f"{stamp}_{safe}.wav"


class CallRecorder:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._rx = open(path.with_suffix(".rx.raw"), "w+b")  # noqa: SIM115 - kept open
        self._tx = open(path.with_suffix(".tx.raw"), "w+b")  # noqa: SIM115
        self._lock = threading.Lock()
        self._tx_pos = 0
        self._rx_base: int | None = None  # recording sample index of rx timestamp _rx_ts0
        self._rx_ts0 = 0
        self._rx_ssrc: int | None = None
        self._closed = False
        self.rate = RATE

    def wideband(self) -> None:
        """Record at 16 kHz (a G.722 call); only before anything was recorded."""
        with self._lock:
            if self._tx_pos == 0 and self._rx_base is None and not self._closed:
                self.rate = 16000
                self.path.with_suffix(".rate").write_text("16000\n")

    def _fit(self, pcm: np.ndarray, rate: int) -> np.ndarray:
        """Narrowband audio in a wideband recording (silence on hold, a codec changed by a
        re-INVITE) is repeated to 16 kHz; the other way round, decimated."""
        if rate == self.rate:
            return pcm
        return np.repeat(pcm, 2) if rate < self.rate else pcm[::2]

    def tx(self, pcm: np.ndarray, rate: int = RATE) -> None:
        """A 20 ms frame the desk sent (or silence while muted/held): the clock."""
        with self._lock:
            if self._closed:
                return
            pcm = self._fit(pcm, rate)
            self._tx.seek(self._tx_pos * 2)
            self._tx.write(pcm.astype("<i2").tobytes())
            self._tx_pos += len(pcm)

    def rx(self, ssrc: int, timestamp: int, pcm: np.ndarray, rate: int = RATE) -> None:
        with self._lock:
            if self._closed:
                return
            pcm = self._fit(pcm, rate)
            per_tick = self.rate // RATE  # samples per RTP timestamp unit
            if self._rx_base is None or ssrc != self._rx_ssrc:
                self._rx_ssrc = ssrc
                self._rx_ts0 = timestamp
                self._rx_base = self._tx_pos
            delta = (timestamp - self._rx_ts0) & 0xFFFFFFFF
            if delta >= 1 << 31:  # a reordered packet from before the first one
                delta -= 1 << 32
            pos = self._rx_base + delta * per_tick
            if pos < 0 or delta > MAX_JUMP:
                return
            self._rx.seek(pos * 2)
            self._rx.write(pcm.astype("<i2").tobytes())

    def close(self) -> Path:
        """Merge both sides into the WAV file, remove the raw files, return the path."""
        with self._lock:
            if self._closed:
                return self.path
            self._closed = True
            for f in (self._rx, self._tx):
                f.close()
        return merge_raw(self.path, self.rate)


def merge_raw(path: Path, rate: int | None = None) -> Path:
    """Merge a call's raw sides into its WAV and remove them (also after a desk crash:
    the raw files a killed desk left hold the call up to that moment). ``rate``: the
    recorder's; None reads the ``.rate`` file a wideband call left (else 8 kHz)."""
    if rate is None:
        try:
            rate = int(path.with_suffix(".rate").read_text().strip())
        except (OSError, ValueError):
            rate = RATE
    sides = []
    for suffix in (".rx.raw", ".tx.raw"):
        raw = path.with_suffix(suffix)
        data = raw.read_bytes() if raw.exists() else b""
        sides.append(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2"))
    n = max(len(s) for s in sides)
    stereo = np.zeros((n, 2), dtype="<i2")
    for ch, side in enumerate(sides):
        stereo[: len(side), ch] = side
    tmp = path.with_suffix(".wav.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(stereo.tobytes())
    os.replace(tmp, path)  # a crash while merging leaves the raw files, not half a WAV
    for suffix in (".rx.raw", ".tx.raw", ".rate"):
        path.with_suffix(suffix).unlink(missing_ok=True)
    return path


def read_recording(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(remote, desk) sample arrays of a recording."""
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    stereo = data.reshape(-1, 2)
    return stereo[:, 0].copy(), stereo[:, 1].copy()


def purge_recordings(directory: Path, keep_days: float, now: float | None = None) -> list[Path]:
    """The retention setting: delete the recordings older than ``keep_days``.

    Only finished recordings (``*.wav``) are considered; a call still being recorded
    (raw files) is never touched. Returns the deleted files.
    """
    if keep_days <= 0 or not directory.is_dir():
        return []
    limit = (now if now is not None else time.time()) - keep_days * 86400
    deleted = []
    for path in sorted(directory.glob("*.wav")):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                deleted.append(path)
        except FileNotFoundError:
            continue
    return deleted
