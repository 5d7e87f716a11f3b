"""The authorization-code flow's secrets: PKCE (RFC 7636, S256), state and nonce."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = _b64(secrets.token_bytes(48))  # 64 characters, within 43..128
        return cls(verifier, _b64(hashlib.sha256(verifier.encode()).digest()))


def loopback_redirect(uri: str) -> str:
    """The desk's redirect URI, if it is ``http://127.0.0.1:PORT/…`` (RFC 8252 §7.3)."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or not port:
        raise ValueError(
            "redirect_uri doit être http://127.0.0.1:PORT/… (adresse de bouclage du poste)"
        )
    if parts.query or parts.fragment:
        raise ValueError("redirect_uri sans paramètres ni fragment")
    return uri


def authorization_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    acr: str,
    state: str,
    nonce: str,
    challenge: str,
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "acr_values": acr,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
