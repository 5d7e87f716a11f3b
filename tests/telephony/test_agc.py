"""Automatic gain: a whispering caller is brought up, a normal one passes untouched."""

from __future__ import annotations

import numpy as np

from telephony.audio.agc import AutoGain
from telephony.audio.device import level_dbfs
from telephony.audio.quality import REFERENCE, attenuate, read_mono

SPEECH = read_mono(REFERENCE)


def through(agc: AutoGain, pcm: np.ndarray) -> np.ndarray:
    return np.concatenate([agc.process(pcm[i : i + 160]) for i in range(0, len(pcm) - 159, 160)])


def test_a_caller_at_a_normal_level_is_not_touched() -> None:
    n = len(SPEECH) // 160 * 160
    assert np.array_equal(through(AutoGain(), SPEECH), SPEECH[:n])


def test_a_whispering_caller_is_brought_up_to_speech_level() -> None:
    whisper = attenuate(SPEECH, 25)  # -45 dBFS: barely audible in a headset
    out = through(AutoGain(), whisper)
    later = out[3 * 8000 :]  # after the first three seconds
    assert level_dbfs(whisper[3 * 8000 :]) < -40
    assert level_dbfs(later) > -30  # +15 dB and more
    assert np.abs(out).max() < 32767  # no clipping


def test_noise_alone_is_not_amplified() -> None:
    rng = np.random.default_rng(3)
    hiss = (rng.standard_normal(8000 * 3) * 20).astype(np.int16)  # about -64 dBFS
    out = through(AutoGain(), hiss)
    assert level_dbfs(out) < -60


def test_a_loud_voice_after_a_whisper_is_not_blasted() -> None:
    agc = AutoGain()
    through(agc, attenuate(SPEECH, 25))
    loud = through(agc, SPEECH)
    assert np.abs(loud).max() <= 32767
    assert level_dbfs(loud[8000:]) < -15  # the gain came down at once
