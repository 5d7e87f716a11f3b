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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def principal_of(user: User, desk: str = "") -> Principal:
    return Principal(user.id, user.username, user.display_name, Role(user.role), desk)


def verify_login(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        _hasher.hash(password)  # same cost either way: no user enumeration by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, desk: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_digest(token),
            desk=desk,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
    )
    return token


def resume_session(session: Session, token: str, now: datetime) -> User | None:
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is None or row.revoked or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def revoke_session(session: Session, token: str) -> None:
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is not None:
        row.revoked = True


def create_user(
    session: Session, username: str, display_name: str, role: Role, password: str
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        role=str(role),
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user
