"""Password guessing slowed down: per account and per address, a growing delay, then a lock.

The counts live in the database (table ``login_failures``): every hub sharing it sees
the same attempts, and a restart forgets nothing. One row per account or address; a
failure is counted by a single upsert (atomic on SQLite and PostgreSQL, whichever hub
wins the race), so it never needs a lock held across statements. A refused attempt
costs no password hash: a flood of guesses is answered without touching argon2 once
the delay has started. ``sasdesk users enable`` and ``reset-password`` lift an
account's lock (:func:`lift`), ``sasdesk users unlock --address`` an address's
(:func:`lift_address`).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, String, Table, and_, case, delete, literal, null, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.config.settings import SessionSettings
from app.db.models import Base
from app.db.types import UTCDateTime
from app.domain.rules import FlowError


class LoginFailure(Base):
    """Wrong passwords counted for one account (``kind`` "account", key its folded name)
    or one address (``kind`` "address")."""

    __tablename__ = "login_failures"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    #: The count at which the current lock began (tells the hub that started it).
    locked_at_count: Mapped[int | None] = mapped_column(Integer)


@dataclass(frozen=True)
class Lock:
    """A lock that has just begun (the supervisor is told)."""

    kind: str  # "account" or "address"
    key: str
    failures: int
    until: datetime


def _wait_text(seconds: float) -> str:
    if seconds >= 90:
        return f"{round(seconds / 60)} min"
    return f"{max(1, round(seconds))} s"


def account_key(username: str) -> str:
    return username.casefold()[:255]


def lift(session: Session, username: str) -> bool:
    """End an account's lock and forget its failures (an administrator vouched for it)."""
    done = session.execute(
        delete(LoginFailure).where(
            LoginFailure.kind == "account", LoginFailure.key == account_key(username)
        )
    )
    return bool(getattr(done, "rowcount", 0))


def address_keys(address: str) -> tuple[str, ...]:
    """The keys an address's failures may be counted under (ValueError: not an address).

    As the hub saw it: a dual-stack socket shows an IPv4 desk as ``::ffff:a.b.c.d``.
    """
    ip = ipaddress.ip_address(address.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return (str(ip), f"::ffff:{ip}")
    return (str(ip),)


def lift_address(session: Session, address: str, now: datetime) -> tuple[int, bool]:
    """End an address's lock and forget its failures (an administrator vouched for the
    desk). Returns (failures forgotten, whether a lock was in force)."""
    rows = session.scalars(
        select(LoginFailure).where(
            LoginFailure.kind == "address", LoginFailure.key.in_(address_keys(address))
        )
    ).all()
    failures = sum(row.failures for row in rows)
    locked = any(row.locked_until is not None and row.locked_until > now for row in rows)
    for row in rows:
        session.delete(row)
    return failures, locked


class LoginGuard:
    def __init__(self, settings: SessionSettings):
        self.settings = settings
        #: Password checks under way on this hub, per (kind, key): see :meth:`admitted`.
        self._in_flight: Counter[tuple[str, str]] = Counter()

    @property
    def quiet(self) -> timedelta:
        """After this long without a failure (and no lock), the count starts again."""
        return timedelta(minutes=self.settings.lock_minutes)

    def _limits(self, kind: str) -> tuple[int, int]:
        s = self.settings
        if kind == "account":
            return s.throttle_after, s.lock_after
        return s.address_throttle_after, s.address_lock_after

    def _keys(self, username: str, address: str) -> tuple[tuple[str, str], ...]:
        return (("account", account_key(username)), ("address", address[:255]))

    def _stale(self, row: LoginFailure, now: datetime) -> bool:
        if row.locked_until is not None:
            return now >= row.locked_until  # the lock is over: a fresh start
        return now - row.last_at >= self.quiet

    def check(
        self, session: Session, username: str, address: str, now: datetime
    ) -> dict[tuple[str, str], int]:
        """Refuse at once (no password check) while an account or address must wait;
        otherwise the failures counted so far, per (kind, key), for :meth:`admitted`."""
        counts: dict[tuple[str, str], int] = {}
        for kind, key in self._keys(username, address):
            row = session.get(LoginFailure, (kind, key))
            counts[(kind, key)] = 0
            if row is None or self._stale(row, now):
                continue
            counts[(kind, key)] = row.failures
            if row.locked_until is not None:
                left = (row.locked_until - now).total_seconds()
                who = "ce compte" if kind == "account" else "ce poste"
                raise FlowError(
                    "locked",
                    f"trop d'essais de mot de passe : {who} est bloqué pendant encore "
                    f"{_wait_text(left)}. Le superviseur a été prévenu.",
                )
            start, _ = self._limits(kind)
            if row.failures >= start:
                delay = min(2.0 ** (row.failures - start), self.settings.max_delay_seconds)
                left = (row.last_at + timedelta(seconds=delay) - now).total_seconds()
                if left > 0:
                    raise FlowError(
                        "throttled",
                        f"mot de passe incorrect {row.failures} fois : "
                        f"attendez {_wait_text(left)} avant de réessayer",
                    )
        return counts

    def suspect(self, counts: dict[tuple[str, str], int]) -> bool:
        """An account with wrong passwords counted, or with a check already under way here
        (attempts sent together): its checks go on their own thread."""
        return any(
            n > 0 or self._in_flight[(kind, key)] > 0
            for (kind, key), n in counts.items()
            if kind == "account"
        )

    @contextmanager
    def admitted(self, counts: dict[tuple[str, str], int]) -> Iterator[None]:
        """Hold a place among the password checks in flight on this hub (event loop only).

        Attempts sent together would all pass :meth:`check` before any is counted: no
        more may be in flight for an account (or address) than failures are left before
        its delay starts, and once it has started, one at a time.
        """
        for kind, key in counts:
            start, _ = self._limits(kind)
            room = max(1, start - counts[(kind, key)])
            if self._in_flight[(kind, key)] >= room:
                who = "ce compte" if kind == "account" else "ce poste"
                raise FlowError(
                    "throttled",
                    f"trop d'essais de mot de passe en même temps pour {who} : "
                    "attendez 1 s avant de réessayer",
                )
        self._in_flight.update(counts.keys())
        try:
            yield
        finally:
            self._in_flight.subtract(counts.keys())
            for k in counts:
                if self._in_flight[k] <= 0:
                    del self._in_flight[k]

    def failed(self, session: Session, username: str, address: str, now: datetime) -> list[Lock]:
        """Count a wrong password (in ``session``'s transaction); returns the locks this
        failure starts."""
        locks = []
        for kind, key in self._keys(username, address):
            _, lock_at = self._limits(kind)
            until = now + timedelta(minutes=self.settings.lock_minutes)
            count, locked_until, locked_at = self._count(session, kind, key, now, until, lock_at)
            if locked_until is not None and locked_at == count:
                locks.append(Lock(kind, key, count, locked_until))
        return locks

    def _count(
        self, session: Session, kind: str, key: str, now: datetime, until: datetime, lock_at: int
    ) -> Any:
        t = cast(Table, LoginFailure.__table__)
        at = literal(now, UTCDateTime())
        lock_value = literal(until, UTCDateTime())
        stale = or_(
            and_(t.c.locked_until.is_not(None), t.c.locked_until <= at),
            and_(
                t.c.locked_until.is_(None), t.c.last_at <= literal(now - self.quiet, UTCDateTime())
            ),
        )
        first_locks = lock_at <= 1
        locks_now = and_(t.c.locked_until.is_(None), t.c.failures + 1 >= lock_at)
        insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
        stmt = insert(t).values(
            kind=kind,
            key=key,
            failures=1,
            last_at=now,
            locked_until=until if first_locks else None,
            locked_at_count=1 if first_locks else None,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.kind, t.c.key],
            set_={
                "failures": case((stale, 1), else_=t.c.failures + 1),
                "last_at": at,
                "locked_until": case(
                    (stale, lock_value if first_locks else null()),
                    (locks_now, lock_value),
                    else_=t.c.locked_until,
                ),
                "locked_at_count": case(
                    (stale, literal(1) if first_locks else null()),
                    (locks_now, t.c.failures + 1),
                    else_=t.c.locked_at_count,
                ),
            },
        ).returning(t.c.failures, t.c.locked_until, t.c.locked_at_count)
        return session.execute(stmt).one()

    def succeeded(self, session: Session, username: str) -> None:
        """A right password: the account's count starts again (the address keeps its own)."""
        lift(session, username)
