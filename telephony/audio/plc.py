"""Packet loss concealment for 8 kHz speech (after ITU-T G.711 Appendix I).

A missing piece (10 or 20 ms) is replaced by the last pitch period of what was played,
repeated (no click at the seams), fading by 20 % per 10 ms after the first 10 ms and
silent after 60 ms. The first good frame after a gap is cross-faded with the
continued synthesis so the join does not click.
"""

from __future__ import annotations

import numpy as np

FRAME = 160
HISTORY = 390  # 48.75 ms: enough for three periods of a 66 Hz voice
MIN_LAG, MAX_LAG = 40, 120  # pitch 66-200 Hz
MERGE = 40  # 5 ms cross-fade into the first good frame


class Concealer:
    def __init__(self) -> None:
        self._history = np.zeros(HISTORY, dtype=np.float64)
        self._period: np.ndarray | None = None  # the repeated pitch period
        self._phase = 0
        self._lost = 0  # samples concealed in a row

    def good(self, pcm: np.ndarray) -> np.ndarray:
        """A received frame: returned as played (cross-faded after a gap)."""
        out = pcm.astype(np.float64)
        if self._lost and self._period is not None:
            tail = self._synth(MERGE, self._fade_at(self._lost))
            ramp = np.linspace(0.0, 1.0, MERGE, endpoint=False)
            out[:MERGE] = out[:MERGE] * ramp + tail * (1 - ramp)
        self._lost = 0
        self._period = None
        self._remember(out)
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

    def conceal(self, n: int = FRAME) -> np.ndarray:
        """``n`` samples (a multiple of 40) for a piece that is missing."""
        if self._period is None:
            self._period = self._pitch_period()
            self._phase = 0
        start = self._lost
        out = np.empty(n)
        for i in range(0, n, 40):  # 5 ms steps of the fade
            out[i : i + 40] = self._synth(40, self._fade_at(start + i))
        self._lost += n
        self._remember(out)
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

    @property
    def concealing(self) -> bool:
        return self._lost > 0

    def _fade_at(self, sample: int) -> float:
        """Gain of the synthesis ``sample`` samples into the gap."""
        if sample < 80:
            return 1.0
        return max(0.0, 1.0 - 0.2 * ((sample - 80) // 80 + 1))

    def _synth(self, n: int, gain: float) -> np.ndarray:
        assert self._period is not None
        p = len(self._period)
        idx = (np.arange(n) + self._phase) % p
        self._phase = (self._phase + n) % p
        return self._period[idx] * gain

    def _pitch_period(self) -> np.ndarray:
        h = self._history
        recent = h[-MAX_LAG:]
        if not np.any(recent):
            return np.zeros(MIN_LAG)
        best_lag, best = MIN_LAG, -np.inf
        window = h[-2 * MAX_LAG :]
        ref = window[-MIN_LAG:]
        for lag in range(MIN_LAG, MAX_LAG + 1):
            cand = window[-MIN_LAG - lag : -lag]
            denom = np.sqrt(np.dot(cand, cand) * np.dot(ref, ref)) or 1.0
            score = float(np.dot(cand, ref) / denom)
            if score > best:
                best, best_lag = score, lag
        period = h[-best_lag:].copy()
        # smooth the seam: the period's end runs into its start
        k = min(8, best_lag // 4)
        if k:
            ramp = np.linspace(0.0, 1.0, k)
            period[-k:] = period[-k:] * (1 - ramp) + h[-best_lag - k : -best_lag] * ramp
        return period

    def _remember(self, frame: np.ndarray) -> None:
        self._history = np.concatenate([self._history[len(frame) :], frame])
