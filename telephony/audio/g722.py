"""G.722 wideband audio (ITU-T G.722, 64 kbit/s, RTP payload type 9) for one call.

The codec is libg722 (PyPI ``G722``, a bit-exact implementation of the ITU-T
specification that passes the ITU test vectors), kept per call: G.722 is ADPCM, each
direction carries state from packet to packet. RFC 3551 keeps G.722's RTP clock at
8000 Hz although it samples at 16 kHz: a 20 ms packet is 160 bytes, 320 samples, and
advances the timestamp by 160.

The desk's headset path (microphone, jitter buffer, earpiece) runs at 8 kHz, so a
G.722 call is encoded from the 8 kHz microphone and played from the lower sub-band
(libg722's 8 kHz mode, no resampler of ours); the recording gets the full 16 kHz of
both directions: what the caller sent, and what the far end decodes of the desk.
"""

from __future__ import annotations

import numpy as np
from G722 import G722

PT = 9
RATE = 16000
BITRATE = 64000


class G722Stream:
    """Encoder and decoders of one call's G.722 stream."""

    def __init__(self) -> None:
        self._enc = G722(8000, BITRATE)  # from the desk's 8 kHz microphone
        self._dec_narrow = G722(8000, BITRATE)  # lower band: the 8 kHz earpiece path
        self._dec_wide = G722(RATE, BITRATE)  # full band: the recording
        self._own_wide = G722(RATE, BITRATE)  # the desk's side as the far end hears it

    def encode(self, pcm8: np.ndarray) -> bytes:
        return bytes(self._enc.encode(pcm8.astype(np.int16)))

    def decode_narrow(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(self._dec_narrow.decode(payload), dtype=np.int16).copy()

    def decode_wide(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(self._dec_wide.decode(payload), dtype=np.int16).copy()

    def own_wide(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(self._own_wide.decode(payload), dtype=np.int16).copy()


def encode_wide(pcm16: np.ndarray) -> bytes:
    """A whole 16 kHz signal as one G.722 stream (test material, pcaps)."""
    return bytes(G722(RATE, BITRATE).encode(pcm16.astype(np.int16)))


def decode_wide(payload: bytes) -> np.ndarray:
    return np.frombuffer(G722(RATE, BITRATE).decode(payload), dtype=np.int16).copy()
