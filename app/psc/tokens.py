"""PSC's ID token (and signed userinfo) checked against PSC's published keys (JWKS)."""

from __future__ import annotations

from typing import Any

import jwt

from app.psc.errors import PscRefused

#: Asymmetric algorithms only: a JWKS never holds a shared secret, and an "HS256" token
#: signed with a public key as its secret is the classic forgery.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
#: Clock difference tolerated between PSC and the hub.
LEEWAY_S = 30


def _invalid(why: str) -> PscRefused:
    return PscRefused(
        "psc_invalid", "la réponse de Pro Santé Connect n'a pas pu être vérifiée", why
    )


def signing_key(token: str, jwks: dict[str, Any]) -> Any:
    """The JWKS key the token names (its ``kid``), or the only one when it names none."""
    try:
        header = jwt.get_unverified_header(token)
        keys = jwt.PyJWKSet.from_dict(jwks).keys
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise _invalid(f"token or JWKS unreadable: {exc}") from None
    kid = header.get("kid")
    usable = [k for k in keys if getattr(k, "public_key_use", None) in (None, "sig")]
    matching = [k for k in usable if kid is None or k.key_id == kid]
    if len(matching) != 1:
        raise _invalid(f"no single signing key for kid {kid!r} in PSC's JWKS")
    return matching[0].key


def has_kid(token: str, jwks: dict[str, Any]) -> bool:
    """Whether the JWKS holds the token's key (else the JWKS is fetched again: rotation)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return True  # unreadable: validation will say so
    return kid is None or any(k.get("kid") == kid for k in jwks.get("keys", []))


def validate(
    token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    audience: str,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The token's claims once issuer, audience, signature, expiry (and nonce) hold."""
    key = signing_key(token, jwks)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise _invalid(f"ID token refused: {type(exc).__name__}: {exc}") from None
    if nonce is not None and claims.get("nonce") != nonce:
        raise _invalid("ID token nonce does not match the one sent")
    return claims
