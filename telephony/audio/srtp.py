"""SRTP media keyed by SDES (RFC 3711, RFC 4568): AES_CM_128_HMAC_SHA1_80 via libsrtp.

Each side of a call sends its own master key (30 bytes: 16 key + 14 salt) in its SDP
``a=crypto`` line; a side protects with its own key and unprotects with the peer's.
``pylibsrtp`` wraps libsrtp 2.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from pylibsrtp import Error, Policy, Session

SUITE = "AES_CM_128_HMAC_SHA1_80"
KEY_LEN = 30


class SrtpError(ValueError):
    pass


@dataclass(frozen=True)
class Crypto:
    tag: int
    suite: str
    key: bytes  # master key + salt

    def attribute(self) -> str:
        return f"{self.tag} {self.suite} inline:{base64.b64encode(self.key).decode()}"


def new_crypto(tag: int = 1) -> Crypto:
    return Crypto(tag, SUITE, secrets.token_bytes(KEY_LEN))


def parse_crypto(value: str) -> Crypto | None:
    """One ``a=crypto`` value; None for a suite or key form we do not speak."""
    parts = value.split()
    if len(parts) < 3 or not parts[0].isdigit() or parts[1] != SUITE:
        return None
    method, _, material = parts[2].partition(":")
    if method != "inline":
        return None
    key_b64 = material.split("|")[0]  # lifetime / MKI: libsrtp defaults
    if "|" in material and len(material.split("|")) > 2:
        return None  # an MKI: not supported
    try:
        key = base64.b64decode(key_b64, validate=True)
    except ValueError:
        return None
    if len(key) != KEY_LEN:
        return None
    return Crypto(int(parts[0]), SUITE, key)


class SrtpContext:
    """Protects what we send (our key), unprotects what arrives (the peer's)."""

    def __init__(self, local: Crypto, remote: Crypto) -> None:
        self._tx = Session(
            Policy(
                key=local.key,
                ssrc_type=Policy.SSRC_ANY_OUTBOUND,
                srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
            )
        )
        self._rx = Session(
            Policy(
                key=remote.key,
                ssrc_type=Policy.SSRC_ANY_INBOUND,
                srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
            )
        )
        self.rejected = 0  # packets failing authentication or replayed

    def protect(self, packet: bytes) -> bytes:
        return bytes(self._tx.protect(packet))

    def unprotect(self, packet: bytes) -> bytes | None:
        try:
            return bytes(self._rx.unprotect(packet))
        except Error:
            self.rejected += 1
            return None
