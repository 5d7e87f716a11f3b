"""A test sound card: a microphone that speaks a given signal and an earpiece that keeps
everything it plays, on its own 20 ms clock like a real device.

The desk tests and ``sasdesk bench audio`` put it where the headset goes, so what is
measured is what an ARM would hear (after every queue and buffer of the line), with
the time each frame reached the earpiece.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from telephony.audio.device import FRAME, RATE, AudioPort, Playout, SignalSource


class CapturePort(AudioPort):
    """``mic``: what the desk's microphone hears (silence when None).

    The earpiece is driven by the port's clock: every 20 ms it takes one frame, from
    the line's playout source when one is attached (:meth:`attach_playout`), else from
    the frames the line wrote (a small queue, like :class:`HeadsetAudio`); an empty
    queue plays silence and counts an underrun once audio has started.
    """

    name = "capture"

    def __init__(self, mic: np.ndarray | None = None, loop: bool = False, queue: int = 10) -> None:
        self._mic = SignalSource(mic, loop) if mic is not None else AudioPort()
        self._queue: deque[np.ndarray] = deque(maxlen=queue)
        self._frames: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.underruns = 0
        self.overflows = 0
        self.started_at = 0.0  # time.monotonic() of the first frame played
        self._audio_seen = False
        self._source: Playout | None = None
        self._thread = threading.Thread(target=self._run, name="capture-port", daemon=True)
        self._thread.start()

    # -- the line's side -----------------------------------------------------------------

    def read(self, n: int = FRAME) -> np.ndarray:
        return self._mic.read(n)

    def write(self, pcm: np.ndarray) -> None:
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.overflows += 1
            self._queue.append(pcm.astype(np.int16))

    def attach_playout(self, source: Playout | None) -> bool:
        self._source = source
        return True

    def close(self) -> None:
        self._source = None
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(1)

    # -- what was heard -------------------------------------------------------------------

    def played(self) -> np.ndarray:
        """Every sample the earpiece played, from ``started_at`` on (8 kHz)."""
        with self._lock:
            return np.concatenate(self._frames) if self._frames else np.zeros(0, np.int16)

    def _next_frame(self) -> np.ndarray:
        with self._lock:
            if self._queue:
                self._audio_seen = True
                return self._queue.popleft()
            if self._audio_seen:
                self.underruns += 1
            return np.zeros(FRAME, dtype=np.int16)

    def _run(self) -> None:
        period = FRAME / RATE
        next_tick = time.monotonic()
        self.started_at = next_tick
        while not self._stop.is_set():
            frame = self._pull()
            with self._lock:
                self._frames.append(frame)
            next_tick += period
            delay = next_tick - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)

    def _pull(self) -> np.ndarray:
        source = self._source
        return source().astype(np.int16) if source is not None else self._next_frame()
