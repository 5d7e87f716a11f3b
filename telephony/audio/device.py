"""The desk's headset: PortAudio through sounddevice, or a null device (CI, no card).

An :class:`AudioPort` gives 20 ms frames of 8 kHz 16-bit mono to send and takes the
frames received. The RTP session calls it from its own thread; it never blocks.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz

Playout = Callable[[], np.ndarray]  # the line's next 20 ms to play


class AudioPort:
    """Null device: sends silence, discards what it receives."""

    name = "null"

    def read(self, n: int = FRAME) -> np.ndarray:
        return np.zeros(n, dtype=np.int16)

    def write(self, pcm: np.ndarray) -> None:
        return None

    def attach_playout(self, source: Playout | None) -> bool:
        """Devices with their own clock pull what they play from ``source`` (the line's
        jitter buffer) and return True; others are written to on the line's clock."""
        return False

    def close(self) -> None:
        return None


class SignalSource(AudioPort):
    """Plays a fixed signal (then silence): operations checks and tests of the send path."""

    name = "signal"

    def __init__(self, samples: np.ndarray, loop: bool = False) -> None:
        self._samples = samples.astype(np.int16)
        self._pos = 0
        self._loop = loop
        self._lock = threading.Lock()

    def read(self, n: int = FRAME) -> np.ndarray:
        with self._lock:
            out = np.zeros(n, dtype=np.int16)
            if self._loop and len(self._samples):
                idx = (np.arange(n) + self._pos) % len(self._samples)
                out[:] = self._samples[idx]
            else:
                chunk = self._samples[self._pos : self._pos + n]
                out[: len(chunk)] = chunk
            self._pos += n
            return out


class HeadsetAudio(AudioPort):
    """A PortAudio duplex stream at 8 kHz with small queues on both sides."""

    name = "headset"

    def __init__(self, device: int | str | None = None) -> None:
        import sounddevice as sd

        self._mic: deque[np.ndarray] = deque(maxlen=10)
        self._speaker: deque[np.ndarray] = deque(maxlen=10)
        self._source: Playout | None = None
        self._pending = np.zeros(0, dtype=np.int16)
        self._stream = sd.Stream(
            samplerate=RATE,
            blocksize=FRAME,
            channels=1,
            dtype="int16",
            device=device,
            callback=self._callback,
        )
        self._stream.start()

    def _callback(
        self, indata: np.ndarray, outdata: np.ndarray, frames: int, time_info: Any, status: Any
    ) -> None:
        self._mic.append(indata[:, 0].copy())
        source = self._source
        if source is not None:  # the device's clock drives the line's playout
            while len(self._pending) < frames:
                self._pending = np.concatenate([self._pending, source()])
            outdata[:, 0] = self._pending[:frames]
            self._pending = self._pending[frames:]
        elif self._speaker:
            frame = self._speaker.popleft()
            outdata[: len(frame), 0] = frame[:frames]
            outdata[len(frame) :, 0] = 0
        else:
            outdata.fill(0)

    def read(self, n: int = FRAME) -> np.ndarray:
        return self._mic.popleft() if self._mic else np.zeros(n, dtype=np.int16)

    def write(self, pcm: np.ndarray) -> None:
        self._speaker.append(pcm)

    def attach_playout(self, source: Playout | None) -> bool:
        self._source = source
        return True

    def close(self) -> None:
        self._source = None
        self._stream.stop()
        self._stream.close()


def open_audio(use_headset: bool = True) -> AudioPort:
    """The headset when PortAudio finds a duplex device, else the null device."""
    if not use_headset:
        return AudioPort()
    try:
        import sounddevice as sd

        devices = sd.query_devices()
        if not any(d["max_input_channels"] > 0 for d in devices) or not any(
            d["max_output_channels"] > 0 for d in devices
        ):
            raise RuntimeError("no input/output device")
        return HeadsetAudio()
    except Exception as exc:  # PortAudio missing, no card, device busy...
        log.info("no headset (%s): null audio device", exc)
        return AudioPort()


def level_dbfs(pcm: np.ndarray) -> float:
    """RMS level in dBFS (-120 for silence)."""
    if not len(pcm):
        return -120.0
    rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))
    if rms <= 0:
        return -120.0
    return max(-120.0, 20 * np.log10(rms / 32768.0))
