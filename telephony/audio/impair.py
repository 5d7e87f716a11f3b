"""Network impairment written into the caller's own RTP stream (this kernel has no netem).

A profile turns the 20 ms packets of a speech signal into (send time, RTP packet) pairs:
jitter moves send times, loss removes packets, reordering sends some after their
successor. The pairs go into a pcap file that SIPp replays with ``play_pcap_audio``,
which keeps the file's timing, so every callee of a run receives the identical stream.
Everything is drawn from a seeded generator: the same profile gives the same file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from telephony.audio import g711

PTIME = 0.020
FRAME = 160


@dataclass(frozen=True)
class Profile:
    name: str
    jitter_ms: float = 0.0  # each packet is late by uniform(0, jitter_ms)
    loss: float = 0.0  # probability a packet is never sent
    reorder: float = 0.0  # probability a packet is sent after its successor

    @property
    def label(self) -> str:
        return self.name


PROFILES = {
    p.name: p
    for p in (
        Profile("clean"),
        Profile("jitter20", jitter_ms=20),
        Profile("jitter40", jitter_ms=40),
        Profile("loss3", loss=0.03),
        Profile("loss3_jitter30", jitter_ms=30, loss=0.03),
        Profile("reorder5", reorder=0.05),
    )
}


@dataclass(frozen=True)
class Packet:
    send_at: float  # seconds after the first packet
    seq: int  # index in the stream (RTP sequence = base + seq)
    rtp: bytes


def impaired_packets(
    pcm: np.ndarray, profile: Profile, seed: int = 2026, payload_type: int = g711.PCMA
) -> list[Packet]:
    """The stream of ``pcm`` as the far end would send it through ``profile``, sorted by
    send time. The first packet is always sent, on time: it is the timing reference."""
    rng = np.random.default_rng(seed)
    n = len(pcm) // FRAME
    jitter = rng.uniform(0.0, profile.jitter_ms / 1000, n)
    lost = rng.random(n) < profile.loss
    late = rng.random(n) < profile.reorder
    jitter[0], lost[0], late[0] = 0.0, False, False
    packets = []
    ssrc, seq0, ts0 = 0x5A5D0001, 1000, 80000
    for i in range(n):
        if lost[i]:
            continue
        send_at = i * PTIME + jitter[i]
        if late[i]:
            send_at += 1.5 * PTIME  # after its successor, before the one after
        payload = g711.encode(pcm[i * FRAME : (i + 1) * FRAME], payload_type)
        header = struct.pack(
            "!BBHII",
            0x80,
            payload_type | (0x80 if i == 0 else 0),
            (seq0 + i) & 0xFFFF,
            (ts0 + i * FRAME) & 0xFFFFFFFF,
            ssrc,
        )
        packets.append(Packet(send_at, i, header + payload))
    packets.sort(key=lambda p: (p.send_at, p.seq))
    return packets


def write_pcap(path: Path, packets: list[Packet]) -> None:
    """An Ethernet/IPv4/UDP pcap of the packets at their send times (``play_pcap_audio``)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, packet in enumerate(packets):
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(packet.rtp), 0) + packet.rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(udp),
            i & 0xFFFF,
            0,
            64,
            17,
            0,
            bytes([127, 0, 0, 1]),
            bytes([127, 0, 0, 1]),
        )
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec = round(packet.send_at * 1_000_000)
        out.append(
            struct.pack("<IIII", 1000 + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
            + frame
        )
    path.write_bytes(b"".join(out))


def stream_facts(packets: list[Packet], n_frames: int) -> dict[str, object]:
    """What the profile did to the stream, for the report."""
    seqs = [p.seq for p in packets]
    out_of_order = sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b < a)
    lateness = [p.send_at - p.seq * PTIME for p in packets]
    return {
        "packets_sent": len(packets),
        "packets_lost": n_frames - len(packets),
        "out_of_order": out_of_order,
        "max_lateness_ms": round(max(lateness) * 1000, 1) if lateness else 0.0,
    }
