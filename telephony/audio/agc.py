"""Automatic gain on what the earpiece plays: a whispering or distant caller is brought up
to a normal speech level; a caller at a normal level passes untouched.

The speech level is followed on frames above a noise gate (-55 dBFS RMS), quickly when
it rises, slowly when it falls. The gain only ever amplifies (1x to +30 dB), rises at
most 0.5 dB per 20 ms (no pumping) and falls at once when the voice gets louder; it is
ramped across each frame (no zipper noise), and a soft limiter keeps peaks below full
scale. A frame with a gain of exactly 1 is returned as it came (bit-exact).
"""

from __future__ import annotations

import numpy as np

TARGET_DBFS = -24.0  # speech level aimed at (a normal caller, about -20, is left alone)
GATE_DBFS = -55.0  # below: breathing, line noise, silence; the gain holds
MAX_GAIN_DB = 30.0
RISE_DB = 0.5  # per frame
LIMIT = 29000.0  # where the soft limiter starts


def _dbfs(pcm: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0
    return 20 * np.log10(rms / 32768.0) if rms > 0 else -120.0


class AutoGain:
    def __init__(self, target_dbfs: float = TARGET_DBFS, max_gain_db: float = MAX_GAIN_DB) -> None:
        self.target = target_dbfs
        self.max_gain_db = max_gain_db
        self.speech_dbfs: float | None = None
        self.gain_db = 0.0
        self.enabled = True

    def process(self, pcm: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return pcm
        level = _dbfs(pcm)
        if level > GATE_DBFS:
            if self.speech_dbfs is None:
                self.speech_dbfs = level
            else:
                alpha = 0.3 if level > self.speech_dbfs else 0.03
                self.speech_dbfs += alpha * (level - self.speech_dbfs)
        if self.speech_dbfs is None:
            return pcm
        wanted = min(self.max_gain_db, max(0.0, self.target - self.speech_dbfs))
        previous = self.gain_db
        self.gain_db = min(wanted, previous + RISE_DB)
        if previous == 0.0 and self.gain_db == 0.0:
            return pcm
        g0, g1 = 10 ** (previous / 20), 10 ** (self.gain_db / 20)
        out = pcm.astype(np.float64) * np.linspace(g0, g1, len(pcm), endpoint=False)
        over = np.abs(out) > LIMIT
        if over.any():  # soft knee above LIMIT, never past full scale
            excess = np.abs(out[over]) - LIMIT
            out[over] = np.sign(out[over]) * (
                LIMIT + (32767 - LIMIT) * np.tanh(excess / (32767 - LIMIT))
            )
        return np.round(out).astype(np.int16)
