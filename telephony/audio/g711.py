"""G.711 μ-law (PCMU) and A-law (PCMA) codecs, table driven with numpy.

Replaces ``audioop`` (removed in Python 3.13). The SIP line (telephony/sip) encodes
with the codec it negotiated; pyVoIP 1.6.8, the library it replaced, sent μ-law bytes
under payload type 8 (PCMA), one of the defects pinned by
tests/telephony/test_pyvoip_evidence.py.
"""

from __future__ import annotations

import numpy as np

_SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _ulaw_encode_one(sample: int) -> int:
    # ITU-T G.711 on the 14-bit magnitude, as in the reference g711.c
    pcm = sample >> 2
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + 0x21
    seg = 0
    while seg < 8 and pcm > _SEG_UEND[seg]:
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def _ulaw_decode_one(byte: int) -> int:
    u = ~byte & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return (0x84 - t) if u & 0x80 else (t - 0x84)


def _alaw_encode_one(sample: int) -> int:
    pcm = sample >> 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = 0
    while seg < 8 and pcm > _SEG_AEND[seg]:
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0x0F if seg < 2 else (pcm >> seg) & 0x0F
    return aval ^ mask


def _alaw_decode_one(byte: int) -> int:
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


_LINEAR = np.arange(-32768, 32768, dtype=np.int32)
_ULAW_ENC = np.array([_ulaw_encode_one(int(s)) for s in _LINEAR], dtype=np.uint8)
_ALAW_ENC = np.array([_alaw_encode_one(int(s)) for s in _LINEAR], dtype=np.uint8)
_ULAW_DEC = np.array([_ulaw_decode_one(b) for b in range(256)], dtype=np.int16)
_ALAW_DEC = np.array([_alaw_decode_one(b) for b in range(256)], dtype=np.int16)

PCMU, PCMA = 0, 8
BY_NAME = {"PCMU": PCMU, "PCMA": PCMA}


def encode(pcm: np.ndarray, payload_type: int) -> bytes:
    """16-bit linear samples to G.711 bytes for payload type 0 (PCMU) or 8 (PCMA)."""
    table = _ULAW_ENC if payload_type == PCMU else _ALAW_ENC
    if payload_type not in (PCMU, PCMA):
        raise ValueError(f"not a G.711 payload type: {payload_type}")
    idx = pcm.astype(np.int32) + 32768
    return bytes(table[idx])


def decode(payload: bytes, payload_type: int) -> np.ndarray:
    """G.711 bytes to 16-bit linear samples."""
    if payload_type not in (PCMU, PCMA):
        raise ValueError(f"not a G.711 payload type: {payload_type}")
    table = _ULAW_DEC if payload_type == PCMU else _ALAW_DEC
    return table[np.frombuffer(payload, dtype=np.uint8)]
