"""The adaptive jitter buffer on a simulated clock: order, loss, lateness, clock drift."""

from __future__ import annotations

import numpy as np

from telephony.audio.jitter import FRAME, JitterBuffer
from telephony.audio.plc import Concealer

from .media import speech_like_signal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def simulate(
    arrivals: list[tuple[float, int]],
    signal: np.ndarray,
    ptime: int = 160,
    device_period: float = 0.020,
    tail: float = 0.3,
) -> tuple[np.ndarray, JitterBuffer, list[float]]:
    """Packets of ``signal`` (index i) arriving at the given times; the device pulls
    every ``device_period``. Returns what was played, the buffer, and its delays."""
    clock = Clock()
    jb = JitterBuffer(clock)
    events = sorted(arrivals)
    end = max(t for t, _ in events) + tail
    t, k, played, delays = 0.0, 0, [], []
    while t < end:
        while k < len(events) and events[k][0] <= t:
            clock.now = 100.0 + events[k][0]
            i = events[k][1]
            jb.put(7, 1000 + i * ptime, signal[i * ptime : (i + 1) * ptime])
            k += 1
        clock.now = 100.0 + t
        frame, _pieces = jb.pull()
        assert len(frame) == FRAME
        played.append(frame)
        if jb.stats["played"] and k < len(events):  # while the stream lasts
            delays.append(jb.delay_ms)
        t += device_period
    return np.concatenate(played), jb, delays


def found(played: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    r, s = played.astype(float), reference.astype(float)
    n = 1 << int(np.ceil(np.log2(len(r) + len(s))))
    corr = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(s, n)), n)[: len(r)]
    off = int(np.argmax(corr))
    seg = r[off : off + len(s)]
    return off, float(np.dot(seg, s[: len(seg)]) / np.sqrt(np.dot(seg, seg) * np.dot(s, s)))


SIGNAL = speech_like_signal(3.0, seed=4)
N = len(SIGNAL) // 160


def test_in_order_stream_is_played_exactly_after_the_target_delay() -> None:
    played, jb, delays = simulate([(i * 0.02 + 0.001, i) for i in range(N)], SIGNAL)
    offset, corr = found(played, SIGNAL)
    assert corr > 0.9999  # bit-exact
    assert jb.stats["concealed"] == 0 and jb.stats["underruns"] == 0  # the end is a pause
    assert 20 <= offset / 8 <= 60  # the prefetch: the target delay and the tick phase


def test_jitter_and_reordering_are_absorbed_without_loss() -> None:
    rng = np.random.default_rng(1)
    late = rng.uniform(0, 0.040, N)
    late[0] = 0
    played, jb, delays = simulate([(i * 0.02 + late[i], i) for i in range(N)], SIGNAL)
    assert jb.stats["late"] == 0
    assert found(played, SIGNAL)[1] > 0.999
    assert 40 <= jb.target_ms <= 60  # 40 ms of spread + margin
    assert max(delays[50:]) < 100


def test_a_lost_packet_is_concealed_and_the_stream_keeps_its_place() -> None:
    arrivals = [(i * 0.02, i) for i in range(N) if i not in (40, 41, 90)]
    played, jb, _ = simulate(arrivals, SIGNAL)
    assert jb.stats["concealed"] >= 6  # three packets of two units
    offset, _ = found(played, SIGNAL[: 30 * 160])
    after = played[offset + 100 * 160 : offset + 140 * 160]
    assert np.array_equal(after, SIGNAL[100 * 160 : 140 * 160])  # no shift after the gaps


def test_30_ms_packets_are_played_too() -> None:
    arrivals = [(i * 0.03, i) for i in range(len(SIGNAL) // 240)]
    played, jb, _ = simulate(arrivals, SIGNAL, ptime=240)
    assert found(played, SIGNAL[: len(SIGNAL) // 240 * 240])[1] > 0.9999
    assert jb.stats["underruns"] == 0


def test_sender_clock_faster_or_slower_keeps_the_delay_bounded() -> None:
    long = speech_like_signal(20.0, seed=8)
    for start in range(8000, len(long), 12000):  # 300 ms pauses between phrases
        long[start : start + 2400] = 0
    n = len(long) // 160
    for drift in (1.005, 0.995):  # 0.5 %: far beyond a real sound card's 100 ppm
        played, jb, delays = simulate([(i * 0.02 / drift, i) for i in range(n)], long)
        # never more than the target plus the 120 ms at which a word may be cut
        assert max(delays[100:]) < jb.target_ms + 130, (drift, max(delays))
        assert min(delays[100:]) > -20, (drift, min(delays))
        if drift > 1:
            assert jb.stats["dropped_for_delay"] > 0  # 100 ms gained over 20 s: dropped
        else:
            assert jb.stats["underruns"] > 0  # 100 ms lost over 20 s: waited for
        assert jb.stats["late"] == 0


def test_a_pause_in_the_stream_restarts_the_buffer_without_counting_underruns() -> None:
    first = [(i * 0.02, i) for i in range(50)]
    second = [(3.0 + i * 0.02, 100 + i) for i in range(50)]  # a hold of two seconds
    _played, jb, _ = simulate(first + second, SIGNAL)
    assert jb.stats["underruns"] == 0 and jb.stats["played"] == 200


def test_concealment_fades_out_a_long_gap() -> None:
    plc = Concealer()
    plc.good(SIGNAL[:160])
    frames = [plc.conceal(80) for _ in range(10)]
    levels = [float(np.abs(f).mean()) for f in frames]
    assert levels[0] > 100  # the first 10 ms continue the voice
    assert levels[-1] == 0.0  # 60 ms on: silence, not a buzz
