"""How a hub's certificate is named on both sides of the wire: the hub prints its
fingerprint, the desk pins it (app.client.trust). Pure text and hashing, so the desk
imports it without the hub's TLS set-up or its settings."""

from __future__ import annotations

import hashlib
import re


def fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate, as ``openssl x509 -fingerprint -sha256`` prints it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def normalise_fingerprint(text: str) -> str:
    """Accept ``AB:CD…``, ``abcd…`` or ``SHA256:AB:CD…``; return the canonical form."""
    hexa = re.sub(r"[^0-9a-fA-F]", "", re.sub(r"^\s*sha-?256[:=]?", "", text, flags=re.I))
    if len(hexa) != 64:
        raise ValueError(f"empreinte SHA-256 invalide : {text!r} (64 chiffres hexadécimaux)")
    hexa = hexa.upper()
    return ":".join(hexa[i : i + 2] for i in range(0, 64, 2))
