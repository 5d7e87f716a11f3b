"""Audio material for the tests: pcap files SIPp can play, and their reference signal."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np

from telephony.audio import g711
from telephony.sip.line import SipLine
from tests.waits import wait_until

#: What the jitter buffer counts as played: 10 ms units at 8 kHz.
UNIT_SAMPLES = 80


def reference_g711_roundtrip(pcm: np.ndarray, codec: str) -> np.ndarray:
    """What the far end hears, by the standard library's codec (independent of ours;
    audioop is there up to Python 3.12, our floor)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    raw = pcm.astype("<i2").tobytes()
    if codec == "PCMA":
        out = audioop.alaw2lin(audioop.lin2alaw(raw, 2), 2)
    else:
        out = audioop.ulaw2lin(audioop.lin2ulaw(raw, 2), 2)
    return np.frombuffer(out, dtype="<i2")


def read_pcap_rtp(path: Path) -> list[tuple[int, int, int, bytes]]:
    """(seq, timestamp, payload type, payload) of each RTP packet of an Ethernet pcap."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0xA1B2C3D4 else ">"
    off = 24
    out = []
    while off + 16 <= len(data):
        _sec, _usec, incl, _orig = struct.unpack(endian + "IIII", data[off : off + 16])
        frame = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        ip = frame[14:]
        udp = ip[(ip[0] & 0x0F) * 4 :]
        rtp = udp[8:]
        _b0, b1, seq, ts = struct.unpack("!BBHI", rtp[:8])
        out.append((seq, ts, b1 & 0x7F, rtp[12:]))
    return out


def pcap_signal(path: Path) -> np.ndarray:
    """The linear audio a G.711 pcap carries, placed by RTP timestamp."""
    packets = read_pcap_rtp(path)
    ts0 = packets[0][1]
    end = max(ts - ts0 + len(p) for _s, ts, _pt, p in packets)
    out = np.zeros(end, dtype=np.int16)
    for _seq, ts, pt, payload in packets:
        out[ts - ts0 : ts - ts0 + len(payload)] = g711.decode(payload, pt)
    return out


def speech_like_signal(seconds: float = 3.0, seed: int = 7) -> np.ndarray:
    """Speech-like test audio: a sweep plus noise bursts, nothing periodic to fool the
    correlation."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(8000 * seconds)) / 8000
    sweep = np.sin(2 * np.pi * (200 * t + 300 * t**2))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * t) ** 2
    noise = rng.standard_normal(len(t)) * 0.3
    return (np.clip((sweep + noise) * envelope * 0.4, -1, 1) * 32767).astype(np.int16)


def write_pcap(path: Path, pcm: np.ndarray, payload_type: int, ptime_samples: int = 160) -> None:
    """An Ethernet/IPv4/UDP pcap of RTP G.711 packets (what play_pcap_audio replays)."""
    payloads = [
        g711.encode(pcm[start : start + ptime_samples], payload_type)
        for start in range(0, len(pcm) - ptime_samples + 1, ptime_samples)
    ]
    write_rtp_pcap(path, payloads, payload_type, ptime_samples)


def write_rtp_pcap(
    path: Path, payloads: list[bytes], payload_type: int, ptime_samples: int = 160
) -> None:
    """The same for payloads already encoded (G.722: 160 bytes per 20 ms, clock 8000)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    seq, ts = 1000, 80000
    for i, payload in enumerate(payloads):
        rtp = (
            struct.pack("!BBHII", 0x80, payload_type | (0x80 if i == 0 else 0), seq, ts, 0x5A5D0001)
            + payload
        )
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        total = 20 + len(udp)
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            total,
            i & 0xFFFF,
            0,
            64,
            17,
            0,
            bytes([127, 0, 0, 1]),
            bytes([127, 0, 0, 1]),
        )
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec_total = i * ptime_samples * 125  # 125 us per sample at 8 kHz
        out.append(
            struct.pack(
                "<IIII",
                1000 + usec_total // 1_000_000,
                usec_total % 1_000_000,
                len(frame),
                len(frame),
            )
            + frame
        )
        seq += 1
        ts += ptime_samples
    path.write_bytes(b"".join(out))


def best_alignment(recorded: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """(offset of ``reference`` in ``recorded``, normalised correlation at that offset)."""
    r = recorded.astype(np.float64)
    s = reference.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(r) + len(s))))
    corr = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(s, n)), n)[: len(r)]
    offset = int(np.argmax(corr))
    seg = r[offset : offset + len(s)]
    ref = s[: len(seg)]
    denom = np.sqrt(np.sum(seg**2) * np.sum(ref**2))
    return offset, float(np.sum(seg * ref) / denom) if denom else 0.0


def played_units(line: SipLine, call_id: str | None) -> int:
    """The 10 ms units of the far end's audio ``line`` has played out on ``call_id`` (0
    before the call is there)."""
    call = line.call_info(call_id) if call_id else None
    rtp = call.rtp if call is not None else None
    return int(rtp.playout_stats()["played"]) if rtp is not None else 0


def units_for(samples: int, margin_ms: int = 200) -> int:
    """The units to wait for so that ``samples`` sent from the start of a call are all
    heard, and ``margin_ms`` more (however long the network and jitter buffer took)."""
    return samples // UNIT_SAMPLES + margin_ms // 10


def wait_played(line: SipLine, call_id: str, samples: int, margin_ms: int = 200) -> None:
    """Block until ``line`` has played out (and so recorded) ``samples`` of what the far
    end sent since the call began, and ``margin_ms`` more (no fixed wait)."""
    needed = units_for(samples, margin_ms)

    def played() -> int:
        return played_units(line, call_id)

    wait_until(
        lambda: played() >= needed,
        lambda: f"{needed} units of 10 ms played out on {call_id} (played {played()})",
        timeout=samples / 8000 + 15,
    )
