"""Play a recording on the desk's audio device (the headset, or the null device).

The stored WAV is stereo (caller, desk); the player mixes both into the mono 8 kHz
frames the desk's audio port takes, paced in real time on its own thread.
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


class AudioOut(Protocol):
    def write(self, pcm: np.ndarray) -> None: ...


def mono_frames(path: Path) -> np.ndarray:
    """The recording as 8 kHz mono samples (both sides mixed)."""
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != RATE or w.getsampwidth() != 2:
            raise ValueError(
                f"{path.name}: {w.getframerate()} Hz / {w.getsampwidth()} octets "
                "par échantillon, 8000 Hz / 2 attendus"
            )
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        channels = w.getnchannels()
    stereo = data.reshape(-1, channels).astype(np.int32)
    return np.clip(stereo.sum(axis=1), -32768, 32767).astype(np.int16)


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
