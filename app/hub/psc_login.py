"""Pro Santé Connect logins on the hub: the CIBA flow (``login.psc.start``/``wait``), the
browser's authorization-code flow (``login.psc.authorize``/``code``), the room's policy
per role, and the password fallback while PSC is unreachable.

PSC's HTTP calls run on their own small thread pool: never on the single writer (the
other desks' intents) nor on the event loop. The identity PSC proved is mapped to the
account an administrator created with that national identifier; PSC's claims never
create an account nor grant a role, they can only refuse one (a nurse on an MRL account).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select

from app.db.models import User
from app.domain.enums import Role
from app.domain.rules import FlowError
from app.hub import protocol as p
from app.hub.auth import Principal
from app.hub.events import EventName
from app.hub.login_sessions import Opened, SessionKeeper
from app.hub.payloads import PscAuthorizeReply, PscPolicy, PscStartReply
from app.hub.service import Outgoing, Unit
from app.hub.views import iso
from app.hub.visibility import Audience
from app.psc.claims import Professional, role_mismatch
from app.psc.client import PscClient
from app.psc.errors import PscRefused, PscUnavailable
from app.psc.national_id import BadNationalId, check_national_id
from app.psc.pkce import Pkce, authorization_url, loopback_redirect
from app.psc.settings import Fallback, Policy, PscSettings

if TYPE_CHECKING:
    from app.hub.connection import DeskConnection
    from app.hub.context import DeskHubContext

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long the hub trusts its last word on PSC's reachability before asking again.
REACHABILITY_TTL_S = 30.0
#: An authorization URL's state is honoured this long.
STATE_TTL_S = 600.0
#: Requests started and not waited for, per hub, at most (a desk that never waits).
MAX_PENDING = 256
#: And per desk connection.
MAX_PENDING_PER_DESK = 3


@dataclass
class _Ciba:
    conn: DeskConnection
    national_id: str
    username: str
    desk: str
    auth_req_id: str
    deadline: float
    interval: float


@dataclass
class _Browser:
    conn: DeskConnection
    desk: str
    redirect_uri: str
    verifier: str
    nonce: str
    at: float


class PscLogins:
    def __init__(self, hub: DeskHubContext, sessions: SessionKeeper):
        self.hub = hub
        #: The sessions a proven identity opens.
        self.sessions = sessions
        self.settings: PscSettings = hub.settings.psc
        self.client = PscClient(self.settings) if self.settings.enabled else None
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hub-psc")
        #: PSC's last answer: True reachable, False not, None never asked.
        self.reachable: bool | None = None
        self._reachable_at = 0.0
        self._ciba: dict[str, _Ciba] = {}
        self._browser: dict[str, _Browser] = {}

    async def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()

    def welcome(self) -> PscPolicy:
        """The room's policy, for the desk's login screen."""
        s = self.settings
        return {
            "enabled": s.enabled,
            "roles": {str(r): str(s.policy(str(r))) for r in Role},
            "pkce": s.enabled and s.pkce,
        }

    # -- PSC's calls, off the writer and the loop ---------------------------------------

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            result = await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        except PscUnavailable as exc:
            self._mark(False)
            log.warning("Pro Santé Connect unreachable: %s", exc)
            raise
        except PscRefused:
            self._mark(True)  # PSC answered, if only to say no
            raise
        self._mark(True)
        return result

    def _mark(self, reachable: bool) -> None:
        self.reachable, self._reachable_at = reachable, time.monotonic()

    async def unreachable_now(self) -> bool:
        """Whether PSC cannot be reached, from the last attempt if recent, else asked now."""
        if self.client is None:
            return True
        if self.reachable is not None and time.monotonic() - self._reachable_at < (
            REACHABILITY_TTL_S
        ):
            return not self.reachable
        try:
            await self._call(self.client.health)
        except PscUnavailable:
            return True
        return False

    def _unavailable(self) -> FlowError:
        """PSC unreachable, and whether a role that must use it may fall back on its
        password with a reason (roles that may use PSC log in with their password anyway)."""
        fallback = self.settings.fallback
        message = "Pro Santé Connect ne répond pas"
        if fallback == Fallback.PASSWORD_WITH_REASON:
            message += " : connectez-vous avec votre mot de passe en indiquant la raison"
        return FlowError("psc_unavailable", message, {"fallback": str(fallback)})

    # -- password logins under the room's policy ----------------------------------------

    async def password_auth(self, role: str, fallback_reason: str) -> str:
        """How a right password logs this role in: "password", "password_fallback"; or
        the refusal (``psc_required``)."""
        if self.settings.policy(role) != Policy.MUST:
            return "password"
        if not fallback_reason:
            raise FlowError(
                "psc_required",
                "ce rôle se connecte avec Pro Santé Connect (carte CPS ou e-CPS)",
            )
        if self.settings.fallback == Fallback.NONE:
            raise FlowError(
                "psc_required",
                "ce rôle se connecte avec Pro Santé Connect, sans mot de passe de secours",
            )
        if not await self.unreachable_now():
            raise FlowError(
                "psc_required",
                "Pro Santé Connect répond : connectez-vous avec votre carte CPS ou e-CPS",
            )
        return "password_fallback"

    async def fallback_used(self, who: Principal, reason: str) -> None:
        """A password login while PSC was unreachable: logged, and the supervisors told."""
        log.warning(
            "password fallback: %s (%s) on %s while Pro Santé Connect is unreachable: %s",
            who.username,
            who.role,
            who.desk,
            reason,
        )
        events = await self.hub.run_in_writer(self._fallback_event, who, reason)
        self.hub.broadcast(events)

    def _fallback_event(self, who: Principal, reason: str) -> list[Outgoing]:
        service = self.hub.service
        with service.sessions.begin() as s:
            u = Unit(s, who, service.clock(), service.user)
            u.emit(
                EventName.LOGIN_PSC_FALLBACK,
                Audience(roles={Role.SUPERVISEUR}),
                username=who.username,
                name=who.name,
                role=str(who.role),
                desk=who.desk,
                reason=reason,
                at=iso(u.now),
            )
            return service.finish(u)

    # -- CIBA ---------------------------------------------------------------------------

    async def start(self, conn: DeskConnection, intent: p.LoginPscStart) -> PscStartReply:
        try:
            national_id = check_national_id(intent.national_id)
        except BadNationalId as exc:
            raise FlowError("bad_request", str(exc)) from None
        # Nothing about the account named by ``username`` is said before PSC proved who is
        # asking (its role, its policy): an unauthenticated desk learns nothing from it.
        if self.client is None:
            raise FlowError(
                "psc_unavailable",
                "Pro Santé Connect n'est pas configuré sur ce hub",
                {"fallback": "none"},
            )
        self._forget_lapsed()
        mine = sum(1 for c in self._ciba.values() if c.conn is conn)
        # Each request rings a professional's phone: a desk cannot ring it over and over.
        if len(self._ciba) >= MAX_PENDING or mine >= MAX_PENDING_PER_DESK:
            raise FlowError("busy", "trop de demandes en cours : attendez la réponse")
        binding = f"{secrets.randbelow(100):02d}"
        try:
            started = await self._call(self.client.ciba_start, national_id, binding)
        except PscUnavailable:
            raise self._unavailable() from None
        except PscRefused as exc:
            log.info("PSC refused the CIBA request for %s: %s", national_id, exc.why)
            raise FlowError(exc.code, exc.message) from None
        request = secrets.token_urlsafe(12)
        interval = max(float(started.interval), self.settings.poll_floor_s)
        self._ciba[request] = _Ciba(
            conn,
            national_id,
            intent.username,
            intent.desk,
            started.auth_req_id,
            time.monotonic() + started.expires_in,
            interval,
        )
        return {
            "request": request,
            "binding_message": binding,
            "expires_in": started.expires_in,
            "interval": started.interval,
        }

    def _forget_lapsed(self) -> None:
        now = time.monotonic()
        for key in [k for k, v in self._ciba.items() if v.deadline < now]:
            del self._ciba[key]
        for key in [k for k, v in self._browser.items() if v.at + STATE_TTL_S < now]:
            del self._browser[key]

    async def wait(self, conn: DeskConnection, intent: p.LoginPscWait) -> Opened:
        pending = self._ciba.get(intent.request)
        if pending is None or pending.conn is not conn:
            raise FlowError("not_found", "aucune demande Pro Santé Connect en cours de ce nom")
        del self._ciba[intent.request]
        assert self.client is not None
        interval = pending.interval
        while True:
            await asyncio.sleep(interval)
            if not conn.open:  # the desk left: stop asking PSC for it
                raise FlowError("not_found", "le poste s'est déconnecté")
            if time.monotonic() > pending.deadline:
                raise FlowError("psc_expired", "la demande a expiré sans réponse : recommencez")
            try:
                poll = await self._call(self.client.ciba_poll, pending.auth_req_id)
            except PscUnavailable:
                raise self._unavailable() from None
            except PscRefused as exc:
                log.info("PSC login of %s refused: %s", pending.national_id, exc.why)
                raise FlowError(exc.code, exc.message) from None
            if poll.slow_down:
                interval += self.settings.slow_down_s
            if poll.tokens is not None:
                break
        identity = await self._identity(poll.tokens, None, pending.national_id)
        return await self._open(identity, intent, pending.desk, pending.username)

    async def _identity(
        self, tokens: dict[str, Any], nonce: str | None, national_id: str | None
    ) -> Professional:
        assert self.client is not None
        try:
            claims = await self._call(self.client.identity, tokens, nonce)
        except PscUnavailable:
            raise self._unavailable() from None
        except PscRefused as exc:
            log.warning("PSC answer refused: %s", exc.why)
            raise FlowError(exc.code, exc.message) from None
        who = Professional.of(claims)
        if not who.national_id or (national_id is not None and who.national_id != national_id):
            log.warning("PSC proved %r where %r was asked: refused", who.national_id, national_id)
            raise FlowError(
                "psc_invalid", "la réponse de Pro Santé Connect n'a pas pu être vérifiée"
            )
        return who

    async def _open(self, who: Professional, intent: p.Intent, desk: str, username: str) -> Opened:
        user_id, role = await asyncio.get_running_loop().run_in_executor(
            self.hub.readers, self._account, who.national_id, username
        )
        if self.settings.policy(role) == Policy.PASSWORD:
            raise FlowError(
                "psc_role_mismatch", "ce rôle se connecte par mot de passe dans cette salle"
            )
        why = role_mismatch(role, who)
        if why:
            log.warning("PSC login of %s refused for role %s: %s", who.national_id, role, why)
            raise FlowError("psc_role_mismatch", why)
        opened: Opened = await self.hub.run_in_writer(
            self.sessions.open_proven, user_id, intent, desk, "psc"
        )
        log.info("PSC login: %s as account %s (%s)", who.national_id, user_id, role)
        return opened

    def _account(self, national_id: str, username: str) -> tuple[int, str]:
        with self.hub.service.sessions() as s:
            row = s.execute(
                select(User.id, User.username, User.role).where(
                    User.national_id == national_id, User.active
                )
            ).first()
        if row is None:
            raise FlowError(
                "psc_no_account",
                f"aucun compte actif ne porte l'identifiant national {national_id} : "
                "demandez à l'administrateur de l'ajouter à votre compte",
            )
        if username and row[1] != username:
            raise FlowError(
                "psc_no_account",
                f"l'identifiant national {national_id} n'est pas celui du compte {username[:64]}",
            )
        return int(row[0]), str(row[2])

    # -- authorization code with PKCE (system browser, loopback redirect) ---------------

    async def authorize(
        self, conn: DeskConnection, intent: p.LoginPscAuthorize
    ) -> PscAuthorizeReply:
        try:
            redirect_uri = loopback_redirect(intent.redirect_uri)
        except ValueError as exc:
            raise FlowError("bad_request", str(exc)) from None
        if self.client is None or not self.settings.pkce:
            raise FlowError(
                "psc_unavailable",
                "la connexion Pro Santé Connect par le navigateur n'est pas configurée",
                {"fallback": "none"},
            )
        try:
            provider = await self._call(self.client.provider)
        except PscUnavailable:
            raise self._unavailable() from None
        self._forget_lapsed()
        if len(self._browser) >= MAX_PENDING:
            raise FlowError("busy", "trop de connexions en cours : réessayez dans un instant")
        pkce, state, nonce = Pkce.new(), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._browser[state] = _Browser(
            conn, intent.desk, redirect_uri, pkce.verifier, nonce, time.monotonic()
        )
        url = authorization_url(
            provider.authorization_endpoint,
            client_id=self.settings.client_id,
            redirect_uri=redirect_uri,
            scope=self.settings.scope,
            acr=self.settings.acr,
            state=state,
            nonce=nonce,
            challenge=pkce.challenge,
        )
        return {"url": url, "state": state}

    async def code(self, conn: DeskConnection, intent: p.LoginPscCode) -> Opened:
        pending = self._browser.get(intent.state)
        if (
            pending is None
            or pending.conn is not conn
            or time.monotonic() - pending.at > STATE_TTL_S
        ):
            log.warning("PSC code with a state this hub did not give this desk: refused")
            raise FlowError(
                "psc_invalid", "réponse de Pro Santé Connect inattendue : recommencez la connexion"
            )
        del self._browser[intent.state]
        assert self.client is not None
        try:
            tokens = await self._call(
                self.client.exchange_code, intent.code, pending.verifier, pending.redirect_uri
            )
        except PscUnavailable:
            raise self._unavailable() from None
        except PscRefused as exc:
            log.warning("PSC code exchange refused: %s", exc.why)
            raise FlowError(exc.code, exc.message) from None
        who = await self._identity(tokens, pending.nonce, None)
        return await self._open(who, intent, pending.desk, "")
