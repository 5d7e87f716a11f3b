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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    case,
    delete,
    literal,
    null,
    or_,
    select,
    update,
)
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
    #: Password checks under way for this key, on every hub (see :meth:`LoginGuard.claim`),
    #: and when the last one began (a hub killed mid-check leaves its places: they lapse).
    checking: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checking_at: Mapped[datetime | None]


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


#: A place among the checks in flight older than this is taken for a hub that died.
CLAIM_LAPSES = timedelta(seconds=60)


class LoginGuard:
    def __init__(self, settings: SessionSettings):
        self.settings = settings

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
        otherwise the failures counted so far, per (kind, key)."""
        return {
            (kind, key): self._judge(kind, session.get(LoginFailure, (kind, key)), now)
            for kind, key in self._keys(username, address)
        }

    def _judge(self, kind: str, row: Any, now: datetime) -> int:
        """The failures that count for a row (a ``LoginFailure`` or the columns of one);
        FlowError while it must wait."""
        if row is None or self._stale(row, now):
            return 0
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
        return int(row.failures)

    @staticmethod
    def suspect(counts: dict[tuple[str, str], int], checking: dict[tuple[str, str], int]) -> bool:
        """An account with wrong passwords counted, or with another check under way on any
        hub (attempts sent together): its checks go on their own thread."""
        return any(
            n > 0 or checking.get((kind, key), 0) > 1
            for (kind, key), n in counts.items()
            if kind == "account"
        )

    def claim(
        self, session: Session, username: str, address: str, now: datetime
    ) -> dict[tuple[str, str], int]:
        """Take a place among the password checks in flight, on every hub (in ``session``'s
        transaction: a refusal rolls it back); give it back with :meth:`release`.

        Attempts sent together would all pass :meth:`check` before any is counted: no
        more may be in flight for an account (or address) than failures are left before
        its delay starts, and once it has started, one at a time. One conditional upsert
        a key, judged on the row as it is when the statement runs (PostgreSQL locks it):
        two hubs cannot both take the last place. Returns the checks now in flight.
        """
        taken = {}
        for kind, key in self._keys(username, address):
            row = self._claim(session, kind, key, now)
            if row is None:
                who = "ce compte" if kind == "account" else "ce poste"
                raise FlowError(
                    "throttled",
                    f"trop d'essais de mot de passe en même temps pour {who} : "
                    "attendez 1 s avant de réessayer",
                )
            # :meth:`check` read the row before a failure counted meanwhile (on any hub)
            # started a delay: judged again on the row as the claim found it.
            self._judge(kind, row, now)
            taken[(kind, key)] = int(row.checking)
        return taken

    def _claim(self, session: Session, kind: str, key: str, now: datetime) -> Any:
        t = cast(Table, LoginFailure.__table__)
        start, _ = self._limits(kind)
        lapsed = or_(
            t.c.checking_at.is_(None),
            t.c.checking_at <= literal(now - CLAIM_LAPSES, UTCDateTime()),
            t.c.checking <= 0,
        )
        checking = case((lapsed, 0), else_=t.c.checking)
        failures = case((self._stale_clause(t, now), 0), else_=t.c.failures)
        stmt = self._insert(session)(t).values(
            kind=kind, key=key, failures=0, last_at=now, checking=1, checking_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.kind, t.c.key],
            set_={"checking": checking + 1, "checking_at": literal(now, UTCDateTime())},
            # room = max(1, failures left before the delay)
            where=or_(checking == 0, checking + failures < start),
        ).returning(t.c.checking, t.c.failures, t.c.last_at, t.c.locked_until)
        return session.execute(stmt).first()

    def release(self, session: Session, username: str, address: str) -> None:
        """Give back the places taken by :meth:`claim`."""
        t = cast(Table, LoginFailure.__table__)
        for kind, key in self._keys(username, address):
            session.execute(
                update(t)
                .where(t.c.kind == kind, t.c.key == key, t.c.checking > 0)
                .values(checking=t.c.checking - 1)
            )

    @staticmethod
    def _insert(session: Session) -> Any:
        dialect = session.get_bind().dialect.name
        return (postgresql if dialect == "postgresql" else sqlite).insert

    def _stale_clause(self, t: Table, now: datetime) -> Any:
        """The row's count starts again (SQL form of :meth:`_stale`)."""
        at = literal(now, UTCDateTime())
        return or_(
            and_(t.c.locked_until.is_not(None), t.c.locked_until <= at),
            and_(
                t.c.locked_until.is_(None), t.c.last_at <= literal(now - self.quiet, UTCDateTime())
            ),
        )

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
        stale = self._stale_clause(t, now)
        first_locks = lock_at <= 1
        locks_now = and_(t.c.locked_until.is_(None), t.c.failures + 1 >= lock_at)
        stmt = self._insert(session)(t).values(
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
