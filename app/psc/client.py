"""The hub's Pro Santé Connect client: discovery, CIBA, token polling, the code exchange,
userinfo. Blocking (httpx): the hub runs it on its own threads, never on the writer or
the event loop.

Flows as ANS runs them for installed software: ansforge/psc-edc-proxy-esante (commit
2bf47dfd, PSCSessionService.java: ``ext/ciba/auth`` with scope ``openid scope_all``,
``acr_values=eidas1``, ``binding_message`` and ``login_hint`` = the national identifier,
then the token endpoint with the CIBA grant, polled every ``interval`` seconds).
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from app.psc import tokens
from app.psc.errors import PscRefused, PscUnavailable
from app.psc.settings import PscSettings

CIBA_GRANT = "urn:openid:params:grant-type:ciba"


@dataclass(frozen=True)
class Provider:
    """PSC's endpoints, from its discovery document."""

    issuer: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    ciba_endpoint: str
    authorization_endpoint: str


@dataclass(frozen=True)
class Started:
    auth_req_id: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Poll:
    """One answer of the token endpoint: tokens, or pending (``slow_down``: poll slower)."""

    tokens: dict[str, Any] | None = None
    slow_down: bool = False


class PscClient:
    def __init__(self, settings: PscSettings):
        self.settings = settings
        verify: ssl.SSLContext | bool = True
        if settings.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(settings.ca_file))
        if settings.cert_file is not None and settings.key_file is not None:
            if not isinstance(verify, ssl.SSLContext):
                verify = ssl.create_default_context()
            verify.load_cert_chain(str(settings.cert_file), str(settings.key_file))
        self.http = httpx.Client(timeout=settings.timeout_s, verify=verify)
        self._lock = threading.Lock()
        self._provider: Provider | None = None
        self._jwks: dict[str, Any] | None = None

    def close(self) -> None:
        self.http.close()

    # -- HTTP ---------------------------------------------------------------------------

    def _auth(self) -> tuple[httpx.BasicAuth | None, dict[str, str]]:
        """client_secret_basic with a secret, else the client id in the form (mTLS)."""
        s = self.settings
        if s.client_secret:
            return httpx.BasicAuth(s.client_id, s.client_secret), {}
        return None, {"client_id": s.client_id}

    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            response = self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise PscUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 500:
            raise PscUnavailable(f"{method} {url}: HTTP {response.status_code}")
        return response

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise PscUnavailable(
                f"{response.url}: not JSON (HTTP {response.status_code})"
            ) from None
        if not isinstance(data, dict):
            raise PscUnavailable(f"{response.url}: JSON is not an object")
        return data

    def _post_form(self, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        auth, extra = self._auth()
        response = self._send("POST", url, data={**form, **extra}, auth=auth)
        return response.status_code, self._json(response)

    # -- discovery and keys -------------------------------------------------------------

    def provider(self) -> Provider:
        with self._lock:
            if self._provider is not None:
                return self._provider
        data = self._json(self._send("GET", self.settings.discovery_url))
        try:
            provider = Provider(
                issuer=str(data["issuer"]),
                token_endpoint=str(data["token_endpoint"]),
                userinfo_endpoint=str(data["userinfo_endpoint"]),
                jwks_uri=str(data["jwks_uri"]),
                ciba_endpoint=str(data.get("backchannel_authentication_endpoint", "")),
                authorization_endpoint=str(data.get("authorization_endpoint", "")),
            )
        except KeyError as exc:
            raise PscUnavailable(f"discovery document without {exc}") from None
        with self._lock:
            self._provider = provider
        return provider

    def jwks(self, for_token: str) -> dict[str, Any]:
        """PSC's keys, fetched again when a token names a key not seen yet (rotation)."""
        with self._lock:
            cached = self._jwks
        if cached is not None and tokens.has_kid(for_token, cached):
            return cached
        data = self._json(self._send("GET", self.provider().jwks_uri))
        with self._lock:
            self._jwks = data
        return data

    def health(self) -> None:
        """Raises PscUnavailable unless the discovery document and the keys are served."""
        provider = self.provider()
        self._json(self._send("GET", provider.jwks_uri))

    # -- CIBA ---------------------------------------------------------------------------

    def ciba_start(self, national_id: str, binding_message: str) -> Started:
        provider = self.provider()
        if not provider.ciba_endpoint:
            raise PscUnavailable("PSC's discovery document names no CIBA endpoint")
        status, data = self._post_form(
            provider.ciba_endpoint,
            {
                "scope": self.settings.scope,
                "acr_values": self.settings.acr,
                "binding_message": binding_message,
                "login_hint": national_id,
            },
        )
        if status != 200 or "auth_req_id" not in data:
            error = str(data.get("error", f"HTTP {status}"))
            if error == "unknown_user_id":
                raise PscRefused(
                    "psc_denied", "Pro Santé Connect ne connaît pas cet identifiant national", error
                )
            raise PscRefused("psc_denied", "Pro Santé Connect a refusé la demande", error)
        return Started(
            str(data["auth_req_id"]), int(data.get("expires_in", 120)), int(data.get("interval", 5))
        )

    def ciba_poll(self, auth_req_id: str) -> Poll:
        status, data = self._post_form(
            self.provider().token_endpoint, {"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id}
        )
        if status == 200:
            return Poll(tokens=data)
        error = str(data.get("error", f"HTTP {status}"))
        if error == "authorization_pending":
            return Poll()
        if error == "slow_down":
            return Poll(slow_down=True)
        if error == "access_denied":
            raise PscRefused("psc_denied", "connexion refusée sur le téléphone ou la carte", error)
        if error in ("expired_token", "invalid_grant"):
            raise PscRefused("psc_expired", "la demande a expiré sans réponse : recommencez", error)
        raise PscRefused("psc_invalid", "Pro Santé Connect a répondu une erreur", error)

    # -- authorization code -------------------------------------------------------------

    def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        status, data = self._post_form(
            self.provider().token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
        if status != 200:
            error = str(data.get("error", f"HTTP {status}"))
            raise PscRefused("psc_invalid", "le code de Pro Santé Connect a été refusé", error)
        return data

    # -- tokens and userinfo ------------------------------------------------------------

    def identity(self, token_response: dict[str, Any], nonce: str | None) -> dict[str, Any]:
        """The validated ID token's claims merged under userinfo (whose ``sub`` must be the
        token's): what the hub maps to an account."""
        id_token = token_response.get("id_token")
        access_token = token_response.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise PscRefused("psc_invalid", "réponse de Pro Santé Connect incomplète", "no token")
        provider = self.provider()
        claims = tokens.validate(
            id_token,
            self.jwks(id_token),
            issuer=provider.issuer,
            audience=self.settings.client_id,
            nonce=nonce,
        )
        response = self._send(
            "GET", provider.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
        )
        if response.status_code != 200:
            raise PscRefused(
                "psc_invalid",
                "Pro Santé Connect n'a pas donné le profil",
                f"userinfo HTTP {response.status_code}",
            )
        if response.headers.get("content-type", "").startswith("application/jwt"):
            signed = response.text.strip()
            info = tokens.validate(
                signed, self.jwks(signed), issuer=provider.issuer, audience=self.settings.client_id
            )
        else:
            info = self._json(response)
        if info.get("sub") != claims.get("sub"):
            raise PscRefused(
                "psc_invalid",
                "la réponse de Pro Santé Connect n'a pas pu être vérifiée",
                "userinfo sub differs from the ID token's",
            )
        return {**claims, **info}
