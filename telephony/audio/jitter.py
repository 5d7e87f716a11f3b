"""Adaptive jitter buffer for one received G.711 stream, with loss concealment and
clock-drift handling.

Packets are cut into 10 ms units placed by RTP timestamp whatever their arrival order
(any packet time that is a multiple of 10 ms: 20 ms, SIPp's 30 ms...); the playout
device pulls one 20 ms frame per tick of its own clock.

- **Delay.** For each packet, ``e = arrival − start of its audio`` (RTP timestamp as
  time). The fastest packet of the last 2 s (``min e``) is the network's floor (a
  short window: it follows clock drift); the 99th percentile of ``e − floor`` over the
  last 10 s is the jitter (a long one: the buffer shrinks slowly after a burst).
  The target delay is that spread plus a 10 ms margin (the device's tick phase), at
  least 30 ms (threads on a loaded machine run 10-20 ms late now and then). The
  current delay is ``now − min e − start of the 10 ms being played``.
- **Too little delay** (the frame due is not there and nothing newer is: it is late, not
  lost): 10 ms of concealment is played and the playout waits (+10 ms delay).
- **Lost** (the frame due is missing but newer ones are there): concealment, and the
  playout moves on.
- **Too much delay** (40 ms above target: the jitter calmed down, or the sender's
  clock runs faster than ours): a quiet 10 ms unit is dropped (any unit beyond 120 ms
  over target): a cut in a word costs more than a little extra delay. A slower
  sender makes frames late: the first case.
- A packet arriving after its frame was played is counted late and dropped; an SSRC
  change or a jump of more than 10 s restarts the buffer.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from telephony.audio.plc import Concealer

FRAME = 160  # what the device pulls: 20 ms
UNIT = 80  # what the buffer holds: 10 ms
UNIT_S = UNIT / 8000
FLOOR_WINDOW = 100  # packets (2 s at 20 ms): the network's floor, following clock drift
SPREAD_WINDOW = 500  # packets (10 s): lateness above the floor, forgotten slowly
MARGIN = 0.010
MIN_TARGET = 0.030  # a loaded CPU delays the threads by 10-20 ms now and then
MAX_TARGET = 0.300
QUIET_RMS = 100.0  # about -50 dBFS: a unit that can be dropped unheard
DROP_QUIET = 0.040  # excess delay above target that drops a quiet unit
DROP_ANY = 0.120  # excess delay above target that drops any unit
IDLE_UNITS = 20  # 200 ms without any packet: the stream paused (hold, DTMF, silence)

Piece = tuple[int, np.ndarray]  # (RTP timestamp, samples) of what was played


class JitterBuffer:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._units: dict[int, np.ndarray] = {}  # unit index -> 80 samples
        self._plc = Concealer()
        self._e: deque[float] = deque(maxlen=FLOOR_WINDOW)
        self._late: deque[float] = deque(maxlen=SPREAD_WINDOW)
        # the device's clock: pull n is due at base + n × 20 ms, base being the earliest
        # (wall time − n × 20 ms) of the last 2 s; a callback run late by a busy CPU is
        # then not mistaken for extra delay (the sound card played on time)
        self._pulls = 0
        self._pull_e: deque[float] = deque(maxlen=FLOOR_WINDOW)
        self._ssrc: int | None = None
        self._ts0 = 0
        self._play = 0  # index of the next unit to play
        self._started = False
        self._empty_run = 0
        self._pending_underruns = 0  # waits, counted once a packet shows they were late
        self.stats = {
            "received": 0,
            "played": 0,  # units of 10 ms
            "concealed": 0,  # units of 10 ms
            "underruns": 0,  # units of 10 ms played while waiting for a late packet
            "late": 0,  # packets arrived after their time was played
            "duplicates": 0,
            "dropped_for_delay": 0,  # units of 10 ms
        }
        self.target_ms = 0.0
        self.delay_ms = 0.0
        self.floor = float("inf")  # earliest (arrival − start of audio) of the stream

    # -- the receive side -----------------------------------------------------------------

    def put(self, ssrc: int, timestamp: int, pcm: np.ndarray) -> None:
        now = self._clock()
        with self._lock:
            if self._ssrc != ssrc:
                self._restart(ssrc, timestamp)
            delta = (timestamp - self._ts0) & 0xFFFFFFFF
            if delta >= 1 << 31:
                delta -= 1 << 32
            if abs(delta // UNIT - self._play) > 1000:  # a 10 s jump: a new stream
                self._restart(ssrc, timestamp)
                delta = 0
            self.stats["received"] += 1
            first = -(-delta // UNIT)  # units that start inside the packet
            skip = first * UNIT - delta
            n = (len(pcm) - skip) // UNIT
            if n <= 0:
                return
            if self._started and first + n <= self._play:
                self.stats["late"] += 1
                return
            if first in self._units:
                self.stats["duplicates"] += 1
                return
            if self._pending_underruns:  # those waits were for this packet: underruns
                self.stats["underruns"] += self._pending_underruns
                self.stats["concealed"] += self._pending_underruns
                self._pending_underruns = 0
            for k in range(n):
                if first + k >= self._play or not self._started:
                    self._units[first + k] = pcm[skip + k * UNIT : skip + (k + 1) * UNIT]
            e = now - first * UNIT_S  # every unit of the packet is there from then on
            self._e.append(e)
            self._late.append(e - min(self._e))
            self.floor = min(self.floor, e)

    def _restart(self, ssrc: int, timestamp: int) -> None:
        self._ssrc, self._ts0 = ssrc, timestamp
        self._units.clear()
        self._e.clear()
        self._late.clear()
        self._play = 0
        self._started = False
        self._empty_run = 0
        self._pending_underruns = 0
        self.floor = float("inf")

    # -- the playout side -------------------------------------------------------------------

    def pull(self) -> tuple[np.ndarray, list[Piece]]:
        """The next 20 ms to play, and the pieces of the stream it stands for (by RTP
        timestamp, concealment included; none for silence or waiting)."""
        wall = self._clock()
        with self._lock:
            self._pulls += 1
            self._pull_e.append(wall - self._pulls * FRAME / 8000)
            now = min(self._pull_e) + self._pulls * FRAME / 8000
            if not self._e:
                return np.zeros(FRAME, dtype=np.int16), []
            floor = min(self._e)
            spread = float(np.percentile(np.fromiter(self._late, float), 99))
            target = min(MAX_TARGET, max(MIN_TARGET, spread + MARGIN))
            self.target_ms = target * 1000
            if not self._started:
                if now - floor - UNIT_S * min(self._units, default=0) < target:
                    return np.zeros(FRAME, dtype=np.int16), []  # prefetch
                self._started = True
                self._play = min(self._units, default=0)
            out: list[np.ndarray] = []
            pieces: list[Piece] = []
            while len(out) < FRAME // UNIT:
                delay = now - floor - self._play * UNIT_S
                self.delay_ms = delay * 1000
                unit = self._units.pop(self._play, None)
                if unit is not None:
                    self._empty_run = 0
                    if delay > target + DROP_QUIET and self._droppable(unit, delay - target):
                        self.stats["dropped_for_delay"] += 1
                        self._play += 1
                        continue
                    self.stats["played"] += 1
                    self._emit(out, pieces, self._plc.good(unit))
                elif any(i > self._play for i in self._units):
                    # lost, or later than the target allows: conceal and move on
                    self.stats["concealed"] += 1
                    self._emit(out, pieces, self._plc.conceal(UNIT))
                else:  # nothing there: late packets, or the stream paused
                    self._empty_run += 1
                    if self._empty_run > IDLE_UNITS:  # a pause: start afresh
                        self._started = False
                        self._e.clear()
                        self._units.clear()
                        self._pending_underruns = 0
                        out.append(np.zeros(UNIT, dtype=np.int16))
                        continue
                    self._pending_underruns += 1
                    out.append(self._plc.conceal(UNIT))  # the playout waits: +10 ms
            return np.concatenate(out), pieces

    def _emit(self, out: list[np.ndarray], pieces: list[Piece], pcm: np.ndarray) -> None:
        out.append(pcm)
        pieces.append(((self._ts0 + self._play * UNIT) & 0xFFFFFFFF, pcm))
        self._play += 1

    def _droppable(self, unit: np.ndarray, excess: float) -> bool:
        if excess > DROP_ANY:
            return True
        rms = float(np.sqrt(np.mean(unit.astype(np.float64) ** 2)))
        return rms < QUIET_RMS and not self._plc.concealing

    def snapshot(self) -> dict[str, float | int]:
        with self._lock:
            return {
                **self.stats,
                "target_ms": round(self.target_ms, 1),
                "delay_ms": round(self.delay_ms, 1),
            }
