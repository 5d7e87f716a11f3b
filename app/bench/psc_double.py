"""A test double of Pro Santé Connect on 127.0.0.1, for the tests and ``bench psc-login``.

A real HTTP server written from the specifications, not from our client: OpenID Connect
discovery at PSC's own path (``…/.well-known/wallet-openid-configuration``), its own RSA
signing key published as a JWKS, the CIBA backchannel endpoint (``ext/ciba/auth``, as
stubbed by ansforge/psc-edc-proxy-esante's tests), the token endpoint with the CIBA grant
(``authorization_pending``, ``slow_down``, ``access_denied``, ``expired_token``) and the
authorization-code grant with PKCE (S256), and userinfo with PSC's claim shapes
(``SubjectNameID``, ``SubjectRefPro.exercices[]``, ``SubjectRole``).

Each professional has a behaviour: approve after N polls, deny, expire, ask to slow down,
or answer with a token for the wrong audience or with a bad signature. ``down`` makes
every endpoint answer 503 (PSC unreachable).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# Spelled here from the specifications (OpenID CIBA core §10.1; PSC's realm as in
# ansforge/psc-edc-proxy-esante's tests), not imported from the client it tests.
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
REALM = "/auth/realms/esante-wallet"
DISCOVERY_PATH = REALM + "/.well-known/wallet-openid-configuration"
OIDC = REALM + "/protocol/openid-connect"
CIBA_PATH = OIDC + "/ext/ciba/auth"
TOKEN_PATH = OIDC + "/token"
USERINFO_PATH = OIDC + "/userinfo"
CERTS_PATH = OIDC + "/certs"
AUTHORIZE_PATH = OIDC + "/auth"


@dataclass
class Person:
    """A professional PSC knows, and how they answer a login request."""

    national_id: str
    family_name: str = "MARTIN"
    given_name: str = "CLAIRE"
    profession: str = "10"  # médecin
    #: approve, deny, expire, wrong_aud, bad_signature
    behaviour: str = "approve"
    #: Token polls answered ``authorization_pending`` before the answer.
    pending_polls: int = 1
    #: Of those, how many are answered ``slow_down``.
    slow_downs: int = 0

    def userinfo(self, sub: str) -> dict[str, Any]:
        return {
            "sub": sub,
            "SubjectNameID": self.national_id,
            "preferred_username": self.national_id,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email_verified": False,
            "SubjectRefPro": {
                "codeCivilite": "M",
                "exercices": [
                    {
                        "codeProfession": self.profession,
                        "codeCategorieProfessionnelle": "C",
                        "codeSavoirFaire": "SM54" if self.profession == "10" else "",
                        "codeTypeSavoirFaire": "S" if self.profession == "10" else "",
                        "nomDexercice": self.family_name,
                        "prenomDexercice": self.given_name,
                        "activities": [],
                    }
                ],
            },
            "SubjectRole": [f"{self.profession}^1.2.250.1.213.1.1.5.5"],
        }


@dataclass
class _Request:
    person: Person
    binding_message: str
    expires_at: float
    polls: int = 0
    answered: bool = False


@dataclass
class _Code:
    person: Person
    redirect_uri: str
    challenge: str
    nonce: str
    used: bool = False


@dataclass
class PscDouble:
    """Start with ``start()``; ``issuer`` and ``discovery_url`` name it to the hub."""

    client_id: str = "sasdesk-hub-test"
    client_secret: str = "secret-de-test"
    people: dict[str, Person] = field(default_factory=dict)
    #: Every endpoint answers 503.
    down: bool = False
    expires_in: int = 120
    interval: int = 1
    #: Who is at the browser in the authorization-code flow.
    browser_user: str = ""
    #: CIBA requests received (binding_message, login_hint), for the tests to read.
    ciba_requests: list[dict[str, str]] = field(default_factory=list)
    #: Token requests received (grant types), for the tests to read.
    token_requests: list[str] = field(default_factory=list)
    #: Serve HTTPS with this context; one that requires a client certificate stands for
    #: PSC's mutual TLS (a verified client certificate then authenticates the client).
    tls: ssl.SSLContext | None = None
    #: Answer userinfo as a signed JWT (``application/jwt``) rather than JSON.
    signed_userinfo: bool = False

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._requests: dict[str, _Request] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, Person] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> PscDouble:
        double = self

        class Handler(_Handler):
            psc = double

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="psc-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base + REALM

    @property
    def discovery_url(self) -> str:
        return self.base + DISCOVERY_PATH

    def add(self, person: Person) -> Person:
        self.people[person.national_id] = person
        return person

    # -- documents ----------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        base = self.base
        return {
            "issuer": self.issuer,
            "authorization_endpoint": base + AUTHORIZE_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "userinfo_endpoint": base + USERINFO_PATH,
            "jwks_uri": base + CERTS_PATH,
            "backchannel_authentication_endpoint": base + CIBA_PATH,
            "backchannel_token_delivery_modes_supported": ["poll"],
            "grant_types_supported": ["authorization_code", CIBA_GRANT],
            "acr_values_supported": ["eidas1"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def tokens(self, person: Person, nonce: str | None = None) -> dict[str, Any]:
        now = int(time.time())
        sub = "sub-" + hashlib.sha256(person.national_id.encode()).hexdigest()[:16]
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": "autre-logiciel" if person.behaviour == "wrong_aud" else self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "acr": "eidas1",
            "SubjectNameID": person.national_id,
            "preferred_username": person.national_id,
        }
        if nonce:
            claims["nonce"] = nonce
        key = self.other_key if person.behaviour == "bad_signature" else self.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = person
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 120,
            "id_token": id_token,
            "scope": "openid scope_all",
        }

    # -- endpoints ----------------------------------------------------------------------

    def client_ok(self, headers: Any, form: dict[str, str], peer_cert: Any) -> bool:
        """client_secret_basic, or (tls_client_auth, RFC 8705) a client certificate the
        TLS layer verified, with the client id in the form."""
        if peer_cert and form.get("client_id") == self.client_id:
            return True
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == self.client_id and pw == self.client_secret
        return False

    def ciba(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        hint = form.get("login_hint", "")
        self.ciba_requests.append(
            {"login_hint": hint, "binding_message": form.get("binding_message", "")}
        )
        if form.get("acr_values") != "eidas1" or "openid" not in form.get("scope", "").split():
            return 400, {"error": "invalid_request"}
        person = self.people.get(hint)
        if person is None:
            return 400, {"error": "unknown_user_id"}
        rid = secrets.token_urlsafe(16)
        with self._lock:
            self._requests[rid] = _Request(
                person, form.get("binding_message", ""), time.monotonic() + self.expires_in
            )
        return 200, {"auth_req_id": rid, "expires_in": self.expires_in, "interval": self.interval}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.token_requests.append(grant)
        if grant == CIBA_GRANT:
            return self._ciba_token(form.get("auth_req_id", ""))
        if grant == "authorization_code":
            return self._code_token(form)
        return 400, {"error": "unsupported_grant_type"}

    def _ciba_token(self, rid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            req = self._requests.get(rid)
            if req is None or req.answered:
                return 400, {"error": "invalid_grant"}
            req.polls += 1
            person = req.person
            if time.monotonic() > req.expires_at or person.behaviour == "expire":
                req.answered = True
                return 400, {"error": "expired_token"}
            if req.polls <= person.slow_downs:
                return 400, {"error": "slow_down"}
            if req.polls <= person.pending_polls:
                return 400, {"error": "authorization_pending"}
            req.answered = True
        if person.behaviour == "deny":
            return 400, {"error": "access_denied"}
        return 200, self.tokens(person)

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The browser's visit: the professional at it (``browser_user``) approves at once;
        the answer is the redirect to the desk's loopback address."""
        person = self.people.get(self.browser_user)
        redirect = query.get("redirect_uri", "")
        if (
            person is None
            or query.get("client_id") != self.client_id
            or query.get("code_challenge_method") != "S256"
            or query.get("acr_values") != "eidas1"
            or not redirect.startswith("http://127.0.0.1:")
        ):
            return 400, ""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Code(
                person, redirect, query.get("code_challenge", ""), query.get("nonce", "")
            )
        return 302, redirect + "?" + urlencode({"code": code, "state": query.get("state", "")})

    def _code_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            grant = self._codes.get(form.get("code", ""))
            if grant is None or grant.used:
                return 400, {"error": "invalid_grant"}
            grant.used = True
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if challenge != grant.challenge or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        return 200, self.tokens(grant.person, grant.nonce)

    def userinfo(self, headers: Any) -> tuple[int, dict[str, Any] | str]:
        auth = headers.get("Authorization", "")
        with self._lock:
            person = self._access.get(auth.removeprefix("Bearer "))
        if person is None:
            return 401, {"error": "invalid_token"}
        sub = "sub-" + hashlib.sha256(person.national_id.encode()).hexdigest()[:16]
        info = person.userinfo(sub)
        if not self.signed_userinfo:
            return 200, info
        now = int(time.time())
        claims = {**info, "iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 60}
        return 200, jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


class _Handler(BaseHTTPRequestHandler):
    psc: PscDouble

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass

    def _send(self, status: int, body: dict[str, Any] | str | None, location: str = "") -> None:
        """JSON, or a JWT (a text body: ``application/jwt``)."""
        signed = isinstance(body, str)
        if isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/jwt" if signed else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        psc = self.psc
        if psc.down:
            self._send(503, {"error": "unavailable"})
            return
        url = urlsplit(self.path)
        if url.path == DISCOVERY_PATH:
            self._send(200, psc.discovery())
        elif url.path == CERTS_PATH:
            self._send(200, psc.jwks())
        elif url.path == USERINFO_PATH:
            self._send(*psc.userinfo(self.headers))
        elif url.path == AUTHORIZE_PATH:
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, location = psc.authorize(query)
            self._send(status, None if location else {"error": "invalid_request"}, location)
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        psc = self.psc
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if psc.down:
            self._send(503, {"error": "unavailable"})
            return
        if self.path not in (CIBA_PATH, TOKEN_PATH):
            self._send(404, {"error": "not_found"})
            return
        peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        if not psc.client_ok(self.headers, form, peer):
            self._send(401, {"error": "invalid_client"})
            return
        self._send(*(psc.ciba(form) if self.path == CIBA_PATH else psc.token(form)))
