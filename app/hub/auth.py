"""Accounts, password hashing (argon2) and login tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import LoginSession, User
from app.domain.enums import Role

TOKEN_LIFETIME = timedelta(hours=14)  # a 12 h shift plus hand-over
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is speaking on a connection, once logged in."""

    user_id: int
    username: str
    name: str
    role: Role
    #: The desk's name given at login (the audit of reads records it).
    desk: str = ""
    #: The professional's national identifier ("" when the account has none).
    national_id: str = ""
    #: How the session was proven: password, psc, password_fallback.
    auth: str = "password"
    #: The account's SAS platform identifier ("" when it has none).
    platform_id: str = ""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def principal_of(user: User, desk: str = "", auth: str = "password") -> Principal:
    return Principal(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        desk,
        user.national_id or "",
        auth,
        user.platform_id or "",
    )


@dataclass(frozen=True)
class Credentials:
    """What a password check needs, read before it (so argon2 runs off the writer)."""

    user_id: int | None  # None: no such active account
    password_hash: str
    #: The account's role (the room's PSC policy applies once the password is right).
    role: str = ""


_dummy_hash: list[str] = []


def _dummy() -> str:
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy_hash[0]


def credentials_of(session: Session, username: str) -> Credentials:
    row = session.execute(
        select(User.id, User.password_hash, User.role).where(User.username == username, User.active)
    ).first()
    if row is None:
        return Credentials(None, _dummy())
    return Credentials(row[0], row[1], row[2])


def check_password(creds: Credentials, password: str) -> tuple[bool, str | None]:
    """argon2 (slow on purpose, any thread): (accepted, a stronger hash to store or None).

    An unknown account costs the same as a known one: no enumeration by timing.
    """
    ok = verify_password(creds.password_hash, password)
    if not ok or creds.user_id is None:
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(creds.password_hash) else None


def verify_login(session: Session, username: str, password: str) -> User | None:
    """Check a password inline (tools and tests; the hub splits it, see check_password)."""
    creds = credentials_of(session, username)
    ok, rehash = check_password(creds, password)
    if not ok:
        return None
    user = session.get(User, creds.user_id)
    if user is not None and rehash:
        user.password_hash = rehash
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session,
    user: User,
    desk: str,
    now: datetime,
    lifetime: timedelta = TOKEN_LIFETIME,
    *,
    auth: str = "password",
    fallback_reason: str = "",
) -> str:
    """A new session's token; the row records how it was proven (audit)."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_digest(token),
            desk=desk,
            created_at=now,
            expires_at=now + lifetime,
            last_active_at=now,
            auth=auth,
            national_id=user.national_id or "",
            fallback_reason=fallback_reason[:500],
        )
    )
    return token


def session_of(session: Session, token: str) -> LoginSession | None:
    return session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))


def why_ended(row: LoginSession, now: datetime, idle: timedelta | None) -> str:
    """Why a session may no longer be used ("" while it is valid)."""
    return ended_because(
        row.revoked,
        row.ended_reason,
        row.user.active,
        row.expires_at,
        row.last_active_at,
        row.created_at,
        now,
        idle,
    )


def ended_because(
    revoked: bool,
    ended_reason: str,
    user_active: bool,
    expires_at: datetime,
    last_active_at: datetime | None,
    created_at: datetime,
    now: datetime,
    idle: timedelta | None,
) -> str:
    """:func:`why_ended` from the session's columns and its user's ``active`` (the hub's
    check of its open sessions reads only these, every second)."""
    if revoked:
        return ended_reason or "revoked"
    if not user_active:
        return "disabled"
    if expires_at <= now:
        return "shift"
    if idle is not None and (last_active_at or created_at) + idle <= now:
        return "idle"
    return ""


def resume_session(
    session: Session, token: str, now: datetime, idle: timedelta | None = None
) -> User | None:
    row = session_of(session, token)
    if row is None or why_ended(row, now, idle):
        return None
    row.last_active_at = now
    return row.user


def end_session(session: Session, row: LoginSession, reason: str) -> None:
    if not row.revoked:
        row.revoked = True
        row.ended_reason = reason


def revoke_session(session: Session, token: str, reason: str = "logged_out") -> int | None:
    """Revoke one token; returns its session id (to close its other connections)."""
    row = session_of(session, token)
    if row is None:
        return None
    end_session(session, row, reason)
    return row.id


def revoke_user_sessions(session: Session, user_id: int, reason: str) -> list[int]:
    rows = session.scalars(
        select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked.is_(False))
    ).all()
    for row in rows:
        end_session(session, row, reason)
    return [row.id for row in rows]


def create_user(
    session: Session,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    national_id: str | None = None,
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        role=str(role),
        password_hash=hash_password(password),
        national_id=national_id or None,
    )
    session.add(user)
    session.flush()
    return user
