"""G.711 tables against the reference codec of the standard library."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

from telephony.audio import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL = np.arange(-32768, 32768, dtype=np.int16)


@pytest.mark.parametrize(
    ("pt", "enc", "dec"),
    [
        (g711.PCMU, audioop.lin2ulaw, audioop.ulaw2lin),
        (g711.PCMA, audioop.lin2alaw, audioop.alaw2lin),
    ],
)
def test_every_sample_encodes_and_decodes_as_the_reference(
    pt: int, enc: Callable[[bytes, int], bytes], dec: Callable[[bytes, int], bytes]
) -> None:
    assert g711.encode(ALL, pt) == enc(ALL.tobytes(), 2)
    every_byte = bytes(range(256))
    assert g711.decode(every_byte, pt).tobytes() == dec(every_byte, 2)


def test_pcma_is_not_ulaw() -> None:
    """A-law is A-law (pyVoIP 1.6.8, which telephony/sip replaced, sent μ-law bytes under
    payload type 8)."""
    assert g711.encode(ALL, g711.PCMA) != g711.encode(ALL, g711.PCMU)
    assert g711.encode(np.zeros(1, np.int16), g711.PCMA) == b"\xd5"
    assert g711.encode(np.zeros(1, np.int16), g711.PCMU) == b"\xff"
