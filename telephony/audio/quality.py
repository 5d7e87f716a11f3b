"""Call-quality measures: PESQ MOS-LQO (ITU-T P.862 narrowband), alignment, playout delay."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from app.resources import resource

RATE = 8000
REFERENCE = resource("audio", "reference_fr.wav")


def read_mono(path: Path) -> np.ndarray:
    """A 16-bit mono 8 kHz WAV file as int16 samples (clear error on any other format)."""
    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
            raise ValueError(
                f"{path}: {w.getnchannels()} channel(s), {8 * w.getsampwidth()} bits, "
                f"{w.getframerate()} Hz; 1 channel, 16 bits, {RATE} Hz expected"
            )
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


def align(signal: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """(offset of ``reference`` in ``signal``, normalised correlation there)."""
    r = signal.astype(np.float64)
    s = reference.astype(np.float64)
    if len(r) < len(s) // 2 or not np.any(r):
        return 0, 0.0
    n = 1 << int(np.ceil(np.log2(len(r) + len(s))))
    corr = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(s, n)), n)
    corr = np.concatenate([corr[n - len(s) + 1 :], corr[: len(r)]])  # lags -len(s)+1 .. len(r)-1
    lag = int(np.argmax(corr)) - (len(s) - 1)
    a, b = max(0, lag), min(len(r), lag + len(s))
    seg, ref = r[a:b], s[a - lag : b - lag]
    denom = np.sqrt(np.sum(seg**2) * np.sum(ref**2))
    return lag, float(np.sum(seg * ref) / denom) if denom else 0.0


def degraded_excerpt(signal: np.ndarray, reference: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """The part of ``signal`` carrying the reference, with a margin either side."""
    lag, _ = align(signal, reference)
    pad = int(margin * RATE)
    start = max(0, lag - pad)
    out = signal[start : lag + len(reference) + pad]
    return out.astype(np.int16)


def pesq_mos(reference: np.ndarray, degraded: np.ndarray) -> float | None:
    """PESQ MOS-LQO, narrowband (P.862 + P.862.1 mapping); None if PESQ finds no speech."""
    from pesq import NoUtterancesError, PesqError, pesq

    excerpt = degraded_excerpt(degraded, reference)
    if len(excerpt) < RATE // 4:
        return None
    try:
        return round(float(pesq(RATE, reference, excerpt, "nb")), 3)
    except (NoUtterancesError, PesqError):
        return None


def attenuate(pcm: np.ndarray, db: float) -> np.ndarray:
    """``pcm`` made quieter by ``db`` decibels (a whispering or distant caller)."""
    return np.round(pcm.astype(np.float64) * 10 ** (-db / 20)).astype(np.int16)
