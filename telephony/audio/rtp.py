"""One call's RTP stream (RFC 3550) with G.722 or G.711 audio and RFC 4733 DTMF events.

One thread per call does both directions: it sends a 20 ms frame on a fixed clock
and reads what arrives in between (select with a timeout up to the next tick).
"""

from __future__ import annotations

import logging
import random
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from telephony.audio import g711
from telephony.audio.agc import AutoGain
from telephony.audio.device import FRAME, AudioPort, level_dbfs
from telephony.audio.g722 import PT as G722_PT
from telephony.audio.g722 import G722Stream
from telephony.audio.jitter import JitterBuffer
from telephony.audio.recorder import CallRecorder
from telephony.audio.srtp import SrtpContext

log = logging.getLogger(__name__)

DTMF_EVENTS = "0123456789*#ABCD"
PTIME = 0.020


def parse_rtp(packet: bytes) -> tuple[int, bool, int, int, int, bytes] | None:
    """(pt, marker, seq, timestamp, ssrc, payload), or None if not RTP v2."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    first, second, seq, ts, ssrc = struct.unpack("!BBHII", packet[:12])
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if len(packet) < offset + 4:
            return None
        (words,) = struct.unpack("!H", packet[offset + 2 : offset + 4])
        offset += 4 + 4 * words
    end = len(packet)
    if first & 0x20 and end > offset:  # padding
        end -= packet[-1]
    if end < offset:
        return None
    return second & 0x7F, bool(second & 0x80), seq, ts, ssrc, packet[offset:end]


class RtpSession:
    """Bind at construction (the port goes into SDP); start once the peer is known."""

    def __init__(
        self,
        host: str,
        audio: AudioPort,
        recorder: CallRecorder | None = None,
        on_dtmf: Callable[[str], None] | None = None,
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.setblocking(False)
        self.port = int(self._sock.getsockname()[1])
        self.audio = audio
        self.recorder = recorder
        self.on_dtmf = on_dtmf
        self.remote: tuple[str, int] | None = None
        self.payload_type = g711.PCMU
        self.dtmf_pt: int | None = 101
        self.sending = True  # False while on hold (sendonly from the peer / inactive)
        self.receiving = True
        self.muted = False
        self.rx_level = -120.0
        self.tx_level = -120.0
        self.packets_in = 0
        self.packets_out = 0
        self.jitter = JitterBuffer()
        self.agc = AutoGain()  # on what the earpiece plays; the recording keeps the original
        self._rx_ssrc = 0
        # a device with its own clock (headset, test sound card) pulls the playout;
        # otherwise (null device) this session's 20 ms clock does
        self._device_clock = audio.attach_playout(self._playout)
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._dtmf_queue: deque[str] = deque()
        self._dtmf_seen: set[tuple[int, int]] = set()
        self._g722: G722Stream | None = None  # a G.722 call's codec state
        self.srtp: SrtpContext | None = None  # set before start(): SRTP media (SDES)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, remote: tuple[str, int], payload_type: int, dtmf_pt: int | None) -> None:
        self.remote = remote
        self.payload_type = payload_type
        self.dtmf_pt = dtmf_pt
        self._codec_state(payload_type)
        if payload_type == G722_PT and self.recorder is not None:
            self.recorder.wideband()  # the recording keeps the call's 16 kHz
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"rtp-{self.port}", daemon=True)
            self._thread.start()

    def update(self, remote: tuple[str, int], payload_type: int, dtmf_pt: int | None) -> None:
        self.remote, self.payload_type, self.dtmf_pt = remote, payload_type, dtmf_pt
        self._codec_state(payload_type)

    def _codec_state(self, payload_type: int) -> None:
        if payload_type == G722_PT and self._g722 is None:
            self._g722 = G722Stream()

    def playout_stats(self) -> dict[str, float | int]:
        """The jitter buffer's counters (played, concealed, underruns, late...)."""
        return self.jitter.snapshot()

    def _playout(self) -> np.ndarray:
        """The next 20 ms for the earpiece (any thread: the device's clock)."""
        pcm, pieces = self.jitter.pull()
        if self.recorder is not None and self.recorder.rate == 8000:
            # (a wideband recording takes the received packets at 16 kHz in _drain)
            for ts, piece in pieces:  # concealed pieces too: the recording is what was heard
                self.recorder.rx(self._rx_ssrc, ts, piece)
        heard = self.agc.process(pcm)
        self.rx_level = level_dbfs(heard)
        return heard

    def send_dtmf(self, digits: str) -> None:
        for d in digits.upper():
            if d not in DTMF_EVENTS:
                raise ValueError(f"not a DTMF digit: {d!r}")
            self._dtmf_queue.append(d)

    def stop(self) -> None:
        self.audio.attach_playout(None)
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        self._sock.close()

    # -- the call's thread ------------------------------------------------------------

    def _run(self) -> None:
        next_tick = time.monotonic()
        dtmf: list[bytes] = []  # pending event packets, one per tick
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                next_tick += PTIME
                if now - next_tick > 0.2:  # fell far behind (suspended): resync
                    next_tick = now + PTIME
                if not dtmf and self._dtmf_queue:
                    dtmf = self._dtmf_packets(self._dtmf_queue.popleft())
                try:
                    self._tick(dtmf.pop(0) if dtmf else None)
                except OSError as exc:
                    log.debug("rtp send: %s", exc)
                continue
            try:
                ready, _, _ = select.select([self._sock], [], [], max(0.0, next_tick - now))
            except (OSError, ValueError):
                return
            if ready:
                self._drain()

    def _tick(self, dtmf_packet: bytes | None) -> None:
        if not self._device_clock:
            self.audio.write(self._playout())
        frame = self.audio.read(FRAME)
        if self.muted or not self.sending:
            frame = np.zeros(FRAME, dtype=np.int16)
        self.tx_level = level_dbfs(frame)
        wide = self.payload_type == G722_PT and self._g722 is not None
        payload = b""
        if wide and dtmf_packet is None:
            assert self._g722 is not None
            payload = self._g722.encode(frame)  # every tick: the encoder's state follows
        if self.recorder is not None:
            if payload:  # what the far end decodes of the desk, at 16 kHz
                assert self._g722 is not None
                self.recorder.tx(self._g722.own_wide(payload), 16000)
            else:
                self.recorder.tx(frame)
        if self.remote is None or not self.sending:
            self._ts = (self._ts + FRAME) & 0xFFFFFFFF
            return
        if dtmf_packet is not None:
            packet = dtmf_packet
        else:
            header = struct.pack("!BBHII", 0x80, self.payload_type, self._seq, self._ts, self._ssrc)
            packet = header + (payload if wide else g711.encode(frame, self.payload_type))
            self._ts = (self._ts + FRAME) & 0xFFFFFFFF
        packet = packet[:2] + struct.pack("!H", self._seq) + packet[4:]
        self._seq = (self._seq + 1) & 0xFFFF
        if self.srtp is not None:
            packet = self.srtp.protect(packet)
        self._sock.sendto(packet, self.remote)
        self.packets_out += 1

    def _dtmf_packets(self, digit: str) -> list[bytes]:
        """RFC 4733: 100 ms of event packets (same timestamp), then 3 end packets."""
        if self.dtmf_pt is None:
            return []
        event = DTMF_EVENTS.index(digit)
        ts = self._ts
        packets = []
        steps = 5
        for i in range(steps):
            marker = 0x80 if i == 0 else 0
            duration = FRAME * (i + 1)
            packets.append(
                struct.pack("!BBHII", 0x80, marker | self.dtmf_pt, 0, ts, self._ssrc)
                + struct.pack("!BBH", event, 10, duration)
            )
        for _ in range(3):
            packets.append(
                struct.pack("!BBHII", 0x80, self.dtmf_pt, 0, ts, self._ssrc)
                + struct.pack("!BBH", event, 0x80 | 10, FRAME * steps)
            )
        # the event covers the time of its packets: audio resumes after it
        self._ts = (self._ts + FRAME * (steps + 3)) & 0xFFFFFFFF
        return packets

    def _drain(self) -> None:
        for _ in range(64):
            try:
                packet, _addr = self._sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if self.srtp is not None:
                clear = self.srtp.unprotect(packet)  # forged, replayed, clear: dropped
                if clear is None:
                    continue
                packet = clear
            parsed = parse_rtp(packet)
            if parsed is None:
                continue
            self.packets_in += 1
            pt, _marker, _seq, ts, ssrc, payload = parsed
            if pt in (self.dtmf_pt, 101):
                self._on_event(ts, ssrc, payload)
            elif pt in (g711.PCMU, g711.PCMA) and self.receiving:
                self._rx_ssrc = ssrc
                self.jitter.put(ssrc, ts, g711.decode(payload, pt))
            elif pt == G722_PT and self.receiving:
                if self._g722 is None:
                    self._g722 = G722Stream()
                self._rx_ssrc = ssrc
                # the earpiece path (8 kHz, jitter buffer) gets the lower band; the
                # recording the full 16 kHz, placed by timestamp
                self.jitter.put(ssrc, ts, self._g722.decode_narrow(payload))
                wide = self._g722.decode_wide(payload)  # every packet: the decoder's state
                if self.recorder is not None and self.recorder.rate == 16000:
                    self.recorder.rx(ssrc, ts, wide, 16000)

    def _on_event(self, ts: int, ssrc: int, payload: bytes) -> None:
        if len(payload) < 4:
            return
        event, flags, _duration = struct.unpack("!BBH", payload[:4])
        if not flags & 0x80 or event >= len(DTMF_EVENTS):
            return
        key = (ssrc, ts)
        if key in self._dtmf_seen:  # the end packet is sent three times
            return
        self._dtmf_seen.add(key)
        if self.on_dtmf is not None:
            self.on_dtmf(DTMF_EVENTS[event])
