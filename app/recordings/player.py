"""Play a recording on the desk's audio device (the headset, or the null device).

The stored WAV is stereo (caller, desk); the player mixes both into the mono 8 kHz
frames the desk's audio port takes, paced in real time on its own thread. A wideband
call (G.722) is recorded at 16 kHz: it is low-passed below 4 kHz and taken one sample in
two, so it plays on the same port without folding its upper band into the voice.
"""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

FRAME = 160  # 20 ms at 8 kHz
RATE = 8000
WIDEBAND = 16000


def _half_band_taps(count: int = 63, cutoff: float = 3600.0) -> np.ndarray:
    """A windowed-sinc low-pass at ``cutoff`` Hz for 16 kHz audio (unity gain at 0 Hz)."""
    n = np.arange(count) - (count - 1) / 2
    taps = np.sinc(2 * cutoff / WIDEBAND * n) * np.blackman(count)
    result: np.ndarray = taps / taps.sum()
    return result


_TAPS = _half_band_taps()


def to_narrowband(samples: np.ndarray) -> np.ndarray:
    """16 kHz samples to 8 kHz: low-passed, then one in two (float in, float out)."""
    filtered = np.convolve(samples.astype(np.float64), _TAPS, mode="same")
    result: np.ndarray = filtered[::2]
    return result


class AudioOut(Protocol):
    def write(self, pcm: np.ndarray) -> None: ...


def mono_frames(path: Path) -> np.ndarray:
    """The recording as 8 kHz mono samples (both sides mixed)."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        if rate not in (RATE, WIDEBAND) or w.getsampwidth() != 2:
            raise ValueError(
                f"{path.name}: {rate} Hz / {w.getsampwidth()} octets "
                "par échantillon, 8000 ou 16000 Hz / 2 attendus"
            )
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        channels = w.getnchannels()
    mixed = data.reshape(-1, channels).astype(np.int32).sum(axis=1)
    if rate == WIDEBAND:
        mixed = np.round(to_narrowband(mixed))
    return np.clip(mixed, -32768, 32767).astype(np.int16)


class RecordingPlayer:
    def __init__(self, out: AudioOut):
        self.out = out
        self.samples = np.zeros(0, dtype=np.int16)
        self.position = 0  # samples played
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / RATE

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def play(self, path: Path) -> None:
        self.stop()
        self.samples = mono_frames(path)
        self.position = 0
        self.finished.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="recording-player", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _run(self) -> None:
        start = time.monotonic()
        while self.position < len(self.samples) and not self._stop.is_set():
            frame = self.samples[self.position : self.position + FRAME]
            if len(frame) < FRAME:
                frame = np.concatenate([frame, np.zeros(FRAME - len(frame), dtype=np.int16)])
            self.out.write(frame)
            self.position += FRAME
            delay = start + self.position / RATE - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
        self.finished.set()
