"""Logins and the life of a session on the hub's connections.

Password checks run in their own bounded thread pool, never on the single writer, so a
flood of wrong passwords does not delay the other desks' intents. Guessing is slowed
per account and per address (``app.hub.throttle``). A session ends on logout, after an
idle time, at the end of a shift, when its account is disabled or its token revoked:
its open connections are told (``session.ended``) and closed, on every hub sharing the
database (PostgreSQL NOTIFY, and a check of the open sessions every second).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed

from app.db.models import LoginSession, User
from app.domain.enums import Role
from app.domain.passwords import WeakPassword, check_new_password
from app.domain.permissions import permissions_of
from app.domain.rules import FlowError
from app.hub import protocol as p
from app.hub.auth import (
    Credentials,
    Principal,
    check_password,
    credentials_of,
    end_session,
    ended_because,
    hash_password,
    open_session,
    principal_of,
    revoke_session,
    session_of,
    why_ended,
)
from app.hub.events import EventName
from app.hub.payloads import LoginReply, PasswordChangeReply
from app.hub.service import Outgoing, Unit
from app.hub.throttle import Lock, LoginGuard
from app.hub.views import iso, user_view
from app.hub.visibility import Audience

if TYPE_CHECKING:
    from app.hub.connection import DeskConnection
    from app.hub.context import DeskHubContext

log = logging.getLogger(__name__)

#: Password checks waiting at most; beyond, a login is answered `busy` at once.
MAX_PENDING_CHECKS = 64
#: How often the open sessions' last activity is written (for a resume on another hub).
TOUCH_EVERY = timedelta(seconds=30)
#: How much nicer than the hub the password checks run (niceness tops out at 19).
PASSWORD_CHECK_NICE = 10
#: The websocket close code of a session that ended (the desk asks for the password).
CLOSE_SESSION_ENDED = 4001

ENDED = {
    "logged_out": "vous êtes déconnecté",
    "idle": "session terminée après {idle} sans activité : saisissez à nouveau votre mot de passe",
    "shift": "durée maximale d'une session atteinte ({shift}) : saisissez à nouveau votre mot "
    "de passe",
    "disabled": "ce compte a été désactivé : voyez le superviseur",
    "revoked": "session révoquée : saisissez à nouveau votre mot de passe",
}


def _yield_to_intents() -> None:
    """The password-check thread runs niced (Linux: per thread, inherited by argon2's
    lane threads): a flood of checks takes the CPU the desks' intents leave.

    Relative to the hub's own niceness: a hub started with ``nice -n 19`` by root would
    otherwise have its checks raised above its intents."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        nice = min(19, os.getpriority(os.PRIO_PROCESS, tid) + PASSWORD_CHECK_NICE)
        os.setpriority(os.PRIO_PROCESS, tid, nice)


def _duration(minutes: float) -> str:
    if minutes >= 120:
        return f"{minutes / 60:g} h"
    return f"{minutes:g} min"


class PasswordPolicy(Protocol):
    """The room's rule on password logins (app.hub.psc_login: PSC required or not)."""

    async def password_auth(self, role: str, fallback_reason: str) -> str: ...

    async def fallback_used(self, who: Principal, reason: str) -> None: ...


class PasswordOnly:
    """No PSC in front: a right password logs in."""

    async def password_auth(self, role: str, fallback_reason: str) -> str:
        return "password"

    async def fallback_used(self, who: Principal, reason: str) -> None:
        return None


#: What the check of the open sessions reads, every second on every hub: the columns
#: that say whether a session ended (loading the sessions and their users as ORM
#: objects cost the hubs about 0.2 ms per intent in the bench's paced phase, half of it
#: now).
_SESSION_STATE = (
    select(
        LoginSession.id,
        LoginSession.revoked,
        LoginSession.ended_reason,
        User.active,
        LoginSession.expires_at,
        LoginSession.last_active_at,
        LoginSession.created_at,
    )
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.id.in_(bindparam("ids", expanding=True)))
)


class SessionKeeper:
    def __init__(self, hub: DeskHubContext):
        self.hub = hub
        #: Who may log in with a password; the hub sets its PSC logins here.
        self.policy: PasswordPolicy = PasswordOnly()
        self.settings = hub.settings.sessions
        self.guard = LoginGuard(self.settings)
        self.hashers = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="hub-argon2", initializer=_yield_to_intents
        )
        #: Accounts with wrong passwords counted are checked on a thread of their own: a
        #: flood of guesses on some accounts never queues the others' logins behind it.
        self.suspect_hashers = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="hub-argon2-suspect", initializer=_yield_to_intents
        )
        self.pending = 0
        self._task: asyncio.Task[None] | None = None
        self._touched_at: datetime | None = None

    @property
    def idle(self) -> timedelta | None:
        minutes = self.settings.idle_minutes
        return timedelta(minutes=minutes) if minutes > 0 else None

    @property
    def shift(self) -> timedelta:
        return timedelta(hours=self.settings.max_shift_hours)

    def message(self, reason: str) -> str:
        return ENDED.get(reason, ENDED["revoked"]).format(
            idle=_duration(self.settings.idle_minutes),
            shift=_duration(self.settings.max_shift_hours * 60),
        )

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="hub-sessions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.hashers.shutdown(wait=True)
        self.suspect_hashers.shutdown(wait=True)

    # -- login, resume, logout ------------------------------------------------------

    async def login(self, conn: DeskConnection, intent: p.Login) -> LoginReply:
        creds, ok, rehash = await self._check(intent.username, conn.address, intent.password)
        if not ok or creds.user_id is None:
            raise FlowError("bad_credentials", "identifiant ou mot de passe incorrect")
        # The room's PSC policy, judged once the password is right: a refusal tells nothing
        # about an account to someone who does not hold its password.
        auth = await self.policy.password_auth(creds.role, intent.fallback_reason)
        opened = await self.hub.run_in_writer(self._open, creds, rehash, intent, auth)
        if auth == "password_fallback":
            await self.policy.fallback_used(opened.principal, intent.fallback_reason)
        return opened.attach(conn)

    async def _check(
        self, username: str, address: str, password: str
    ) -> tuple[Credentials, bool, str | None]:
        """A password checked as a login does: throttled, off the writer, a failure counted
        (and a lock it starts told to the supervisors). (credentials, accepted, rehash)."""
        try:
            return await self._check_now(username, address, password)
        except FlowError as exc:
            if exc.code in ("throttled", "locked"):
                # Held back a moment (costs nothing here, and no password check is
                # pending): a socket hammering a throttled account gets one reply a second.
                await asyncio.sleep(self.settings.refusal_pause_seconds)
            raise

    async def _check_now(
        self, username: str, address: str, password: str
    ) -> tuple[Credentials, bool, str | None]:
        loop = asyncio.get_running_loop()
        if self.pending >= MAX_PENDING_CHECKS:
            raise FlowError("busy", "trop de connexions en cours : réessayez dans un instant")
        self.pending += 1
        locks: list[Lock] = []
        try:
            # The throttle is read (and a place among the checks in flight taken, on every
            # hub) with the account, beside the writer; argon2, the count of a failure and
            # the place given back run on the password checks' own thread.
            creds, counts, checking = await loop.run_in_executor(
                self.hub.readers, self._credentials, username, address
            )
            hashers = self.suspect_hashers if self.guard.suspect(counts, checking) else self.hashers
            failed: bool | None = None  # None: the check itself failed, nothing to count
            try:
                ok, rehash = await loop.run_in_executor(hashers, check_password, creds, password)
                failed = not ok or creds.user_id is None
            finally:
                locks = await loop.run_in_executor(
                    hashers, self._checked, username, address, bool(failed)
                )
        finally:
            self.pending -= 1
        if locks:
            events = await self.hub.run_in_writer(self._lock_events, locks, username, address)
            self.hub.broadcast(events)
        return creds, ok and creds.user_id is not None, rehash

    async def resume(self, conn: DeskConnection, intent: p.Resume) -> LoginReply:
        resumed = await self.hub.run_in_writer(self._resume, intent)
        return resumed.attach(conn)

    async def change_password(
        self, conn: DeskConnection, intent: p.PasswordChange
    ) -> PasswordChangeReply:
        """The user's own password: the old one checked like a login (throttled, off the
        writer), the policy applied; the account's other sessions end (this one stays)."""
        who = conn.principal
        assert who is not None
        try:
            check_new_password(intent.new_password, who.username)
        except WeakPassword as exc:
            raise FlowError("weak_password", f"{exc} ; rien n'a changé") from None
        if intent.new_password == intent.old_password:
            raise FlowError(
                "weak_password",
                "le nouveau mot de passe doit différer de l'ancien ; rien n'a changé",
            )
        creds, ok, _ = await self._check(who.username, conn.address, intent.old_password)
        if not ok or creds.user_id != who.user_id:
            raise FlowError("bad_credentials", "ancien mot de passe incorrect ; rien n'a changé")
        loop = asyncio.get_running_loop()
        new_hash = await loop.run_in_executor(self.hashers, hash_password, intent.new_password)
        ended = await self.hub.run_in_writer(
            self._set_password, who.user_id, who.username, conn.session_id, new_hash
        )
        await self.end_sessions(set(ended), "revoked")
        return {"sessions_ended": len(ended)}

    def _set_password(
        self, user_id: int, username: str, keep: int | None, password_hash: str
    ) -> list[int]:
        with self.hub.service.sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None or not user.active:
                raise FlowError(
                    "bad_credentials", "ancien mot de passe incorrect ; rien n'a changé"
                )
            user.password_hash = password_hash
            self.guard.succeeded(s, username)
            rows = s.scalars(
                select(LoginSession).where(
                    LoginSession.user_id == user_id,
                    LoginSession.revoked.is_(False),
                    LoginSession.id != (keep or 0),
                )
            ).all()
            for row in rows:
                end_session(s, row, "revoked")
            ended = [row.id for row in rows]
            if ended and self.hub.fanout is not None:
                self.hub.fanout.announce_end(s, {"sessions": ended, "reason": "revoked"})
            return ended

    def _credentials(
        self, username: str, address: str
    ) -> tuple[Credentials, dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        now = self.hub.service.clock()
        with self.hub.service.sessions.begin() as s:
            counts = self.guard.check(s, username, address, now)
            creds = credentials_of(s, username)
            return creds, counts, self.guard.claim(s, username, address, now)

    def _checked(self, username: str, address: str, failed: bool) -> list[Lock]:
        """The check's place given back, and a wrong password counted, in one transaction."""
        with self.hub.service.sessions.begin() as s:
            self.guard.release(s, username, address)
            if not failed:
                return []
            return self.guard.failed(s, username, address, self.hub.service.clock())

    def _open(
        self, creds: Credentials, rehash: str | None, intent: p.Login, auth: str = "password"
    ) -> Opened:
        with self.hub.service.sessions.begin() as s:
            user = s.get(User, creds.user_id)
            if user is None or not user.active:
                raise FlowError("bad_credentials", "identifiant ou mot de passe incorrect")
            if rehash:
                user.password_hash = rehash
            self.guard.succeeded(s, intent.username)
            reason = intent.fallback_reason if auth == "password_fallback" else ""
            return self._opened(s, user, intent, intent.desk, auth, reason)

    def open_proven(self, user_id: int, intent: p.Intent, desk: str, auth: str) -> Opened:
        """A session for an account whose holder an identity provider proved (PSC), on
        the writer. The account must still be active."""
        with self.hub.service.sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None or not user.active:
                raise FlowError(
                    "psc_no_account", "ce compte n'est plus actif : voyez le superviseur"
                )
            return self._opened(s, user, intent, desk, auth, "")

    def _opened(
        self, s: Session, user: User, intent: p.Intent, desk: str, auth: str, reason: str
    ) -> Opened:
        now = self.hub.service.clock()
        token = open_session(s, user, desk, now, self.shift, auth=auth, fallback_reason=reason)
        s.flush()
        row = session_of(s, token)
        assert row is not None
        reply: LoginReply = {
            "token": token,
            "auth": auth,
            "user": user_view(user),
            "permissions": permissions_of(Role(user.role)),
        }
        return Opened(reply, principal_of(user, desk, auth), token, row.id, now)

    def _resume(self, intent: p.Resume) -> Opened:
        """A token still valid gets its connection back."""
        now = self.hub.service.clock()
        with self.hub.service.sessions.begin() as s:
            row = session_of(s, intent.token)
            reason = why_ended(row, now, self.idle) if row is not None else "unknown"
            if row is not None and reason == "idle":
                end_session(s, row, reason)  # committed: the refusal is final
            elif row is not None and not reason:
                row.last_active_at = now
                reply: LoginReply = {
                    "token": intent.token,
                    "auth": row.auth,
                    "user": user_view(row.user),
                    "permissions": permissions_of(Role(row.user.role)),
                }
                who = principal_of(row.user, intent.desk or row.desk, row.auth)
                opened = Opened(reply, who, intent.token, row.id, now)
        if reason == "unknown":
            raise FlowError("session_expired", "session expirée : reconnectez-vous")
        if reason:
            raise FlowError("session_expired", self.message(reason))
        return opened

    async def logout(self, conn: DeskConnection) -> None:
        token = conn.token
        conn.principal = conn.token = None
        conn.session_id = None
        if token:
            ended = await self.hub.run_in_writer(self._revoke, token)
            if ended is not None:
                await self.end_sessions({ended}, "logged_out")

    async def end_opened(self, opened: Opened) -> None:
        """A session opened for a desk that left meanwhile is ended at once."""
        await self.hub.run_in_writer(self._revoke, opened.token)

    def _revoke(self, token: str) -> int | None:
        with self.hub.service.sessions.begin() as s:
            ended = revoke_session(s, token, "logged_out")
            if ended is not None and self.hub.fanout is not None:
                self.hub.fanout.announce_end(s, {"sessions": [ended], "reason": "logged_out"})
            return ended

    def _lock_events(self, locks: list[Lock], username: str, address: str) -> list[Outgoing]:
        service = self.hub.service
        with service.sessions.begin() as s:
            u = Unit(s, None, service.clock(), service.user)
            for lock in locks:
                u.emit(
                    EventName.LOGIN_LOCKED,
                    Audience(roles={Role.SUPERVISEUR}),
                    kind=lock.kind,
                    username=username[:64],
                    address=address,
                    failures=lock.failures,
                    until=iso(lock.until),
                )
            return service.finish(u)

    # -- ending sessions on this hub and the others -------------------------------------

    def on_announced(self, ended: dict[str, Any]) -> None:
        """Another hub or ``sasdesk users`` ended sessions (PostgreSQL NOTIFY)."""
        sessions = {int(x) for x in ended.get("sessions", [])}
        users = {int(x) for x in ended.get("users", [])}
        reason = str(ended.get("reason", "revoked"))
        asyncio.get_running_loop().create_task(
            self.end_sessions(sessions, reason, users), name="hub-end-sessions"
        )

    async def end_sessions(
        self, sessions: set[int], reason: str, users: set[int] | frozenset[int] = frozenset()
    ) -> None:
        for conn in list(self.hub.connections):
            if conn.session_id is None or conn.principal is None:
                continue
            if conn.session_id in sessions or conn.principal.user_id in users:
                await self.end_connection(conn, reason)

    async def end_connection(self, conn: DeskConnection, reason: str) -> None:
        conn.principal = conn.token = None
        conn.session_id = None
        frame = {"type": "session.ended", "reason": reason, "message": self.message(reason)}
        with contextlib.suppress(ConnectionClosed):
            conn.flush()  # the events queued for this desk first, then why it ends
            await conn.ws.send(json.dumps(frame))
            await conn.ws.close(CLOSE_SESSION_ENDED, "session ended")

    # -- the watch over open sessions -----------------------------------------------------

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.check_seconds)
            try:
                await self.check_now()
            except Exception:  # keep watching: a failed check is retried next second
                log.exception("session check failed")

    async def check_now(self) -> None:
        conns = [c for c in self.hub.connections if c.session_id is not None]
        if not conns:
            return
        now = self.hub.service.clock()
        ids = {c.session_id for c in conns if c.session_id is not None}
        loop = asyncio.get_running_loop()
        ended = await loop.run_in_executor(self.hub.readers, self._ended_in_db, ids, now)
        idle = self.idle
        lapsed: dict[int, str] = {}
        for conn in conns:
            if conn.session_id is None:
                continue  # logged out meanwhile
            reason = ended.get(conn.session_id, "")
            if idle is not None and conn.last_active + idle <= now:
                reason = reason or "idle"
            if reason:
                lapsed[conn.session_id] = reason
                await self.end_connection(conn, reason)
        touched = {
            c.session_id: c.last_active
            for c in conns
            if c.session_id is not None and c.session_id not in lapsed
        }
        due = self._touched_at is None or now - self._touched_at >= TOUCH_EVERY
        if lapsed or (touched and due):
            self._touched_at = now
            await self.hub.run_in_writer(self._write_activity, touched, lapsed)

    def _ended_in_db(self, ids: set[int], now: datetime) -> dict[int, str]:
        with self.hub.service.sessions() as s:
            rows = s.connection().execute(_SESSION_STATE, {"ids": sorted(ids)}).all()
        out = {}
        for session_id, revoked, why, active, expires, last_active, created in rows:
            # Idle time is judged on the connection itself (fresher than the database).
            reason = ended_because(revoked, why, active, expires, last_active, created, now, None)
            if reason:
                out[session_id] = reason
        return out

    def _write_activity(self, touched: dict[int, datetime], lapsed: dict[int, str]) -> None:
        with self.hub.service.sessions.begin() as s:
            # One read for all (it runs on the writer: one round trip per desk stalled every
            # desk's intents for as many, each 30 s).
            wanted = LoginSession.id.in_(set(touched) | set(lapsed))
            rows = {row.id: row for row in s.scalars(select(LoginSession).where(wanted)).unique()}
            for sid, at in touched.items():
                row = rows.get(sid)
                if row is not None and (row.last_active_at is None or row.last_active_at < at):
                    row.last_active_at = at
            for sid, reason in lapsed.items():
                row = rows.get(sid)
                if row is not None:
                    end_session(s, row, reason)


@dataclass(frozen=True)
class Opened:
    """A session opened or resumed on the writer, attached to its connection on the loop."""

    reply: LoginReply
    principal: Principal
    token: str
    session_id: int
    at: datetime

    def attach(self, conn: DeskConnection) -> LoginReply:
        conn.principal, conn.token, conn.session_id = self.principal, self.token, self.session_id
        conn.last_active = self.at
        return self.reply


def ok_reply(intent: p.Intent, body: Mapping[str, object]) -> dict[str, Any]:
    """The envelope of a reply sent on the desk's connection: ``ok``, the intent's id, and
    the reply the intent's protocol registers (app.hub.payloads.SESSION_REPLIES)."""
    reply: dict[str, Any] = {"type": "ok"}
    if intent.id is not None:
        reply["re"] = intent.id
    reply.update(body)
    return reply
