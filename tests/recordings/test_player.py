"""The desk's player takes what the recorder writes: 8 kHz calls as they are, and
wideband (G.722, 16 kHz) calls brought to the 8 kHz port without aliasing."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from app.recordings.player import mono_frames


def tone(path: Path, rate: int, hz: float, seconds: float = 1.0) -> None:
    t = np.arange(int(rate * seconds)) / rate
    side = (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.column_stack([side, np.zeros_like(side)]).tobytes())


def level_at(samples: np.ndarray, hz: float, rate: int = 8000) -> float:
    """The amplitude of ``hz`` in ``samples`` (middle part: the filter's edges aside)."""
    middle = samples[rate // 10 : -rate // 10].astype(float)
    t = np.arange(len(middle)) / rate
    return float(2 * abs(np.mean(middle * np.exp(-2j * np.pi * hz * t))))


def test_a_narrowband_recording_is_played_sample_for_sample(tmp_path: Path) -> None:
    tone(tmp_path / "nb.wav", 8000, 1000)
    with wave.open(str(tmp_path / "nb.wav"), "rb") as w:
        left = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")[::2]
    assert np.array_equal(mono_frames(tmp_path / "nb.wav"), left)


def test_a_wideband_recording_plays_at_8_khz_with_its_voice_band(tmp_path: Path) -> None:
    tone(tmp_path / "voice.wav", 16000, 1000)
    voice = mono_frames(tmp_path / "voice.wav")
    assert len(voice) == 8000  # one second at the port's rate
    assert 7600 < level_at(voice, 1000) < 8400  # the 1 kHz voice kept, within 0.5 dB
    # A 7 kHz tone (the upper band) must not fold onto 1 kHz: taking one sample in two
    # without the low-pass would put it there at full level.
    tone(tmp_path / "upper.wav", 16000, 7000)
    upper = mono_frames(tmp_path / "upper.wav")
    assert level_at(upper, 1000) < 80  # at least 40 dB down
