"""Password guessing slowed down: per account and per address, a growing delay, then a lock.

Kept in the hub's memory (a restart forgets it; each hub of a shared deployment counts
its own attempts). A refused attempt costs no password hash: a flood of guesses is
answered without touching argon2 once the delay has started.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config.settings import SessionSettings
from app.domain.rules import FlowError


@dataclass
class _Failures:
    count: int = 0
    last: datetime | None = None
    locked_until: datetime | None = None


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


class LoginGuard:
    def __init__(self, settings: SessionSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._accounts: dict[str, _Failures] = {}
        self._addresses: dict[str, _Failures] = {}

    def _limits(self, kind: str) -> tuple[int, int]:
        s = self.settings
        if kind == "account":
            return s.throttle_after, s.lock_after
        return s.address_throttle_after, s.address_lock_after

    def _forget_old(self, table: dict[str, _Failures], key: str, now: datetime) -> _Failures:
        f = table.setdefault(key, _Failures())
        quiet = timedelta(minutes=self.settings.lock_minutes)
        if f.locked_until is not None and now >= f.locked_until:
            table[key] = f = _Failures()  # the lock is over: a fresh start
        elif f.locked_until is None and f.last is not None and now - f.last >= quiet:
            table[key] = f = _Failures()
        return f

    def check(self, username: str, address: str, now: datetime) -> None:
        """Refuse at once (no password check) while an account or address must wait."""
        with self._lock:
            for kind, table, key in (
                ("account", self._accounts, username.casefold()),
                ("address", self._addresses, address),
            ):
                f = self._forget_old(table, key, now)
                if f.locked_until is not None:
                    left = (f.locked_until - now).total_seconds()
                    who = "ce compte" if kind == "account" else "ce poste"
                    raise FlowError(
                        "locked",
                        f"trop d'essais de mot de passe : {who} est bloqué pendant encore "
                        f"{_wait_text(left)}. Le superviseur a été prévenu.",
                    )
                start, _ = self._limits(kind)
                if f.count >= start and f.last is not None:
                    delay = min(2.0 ** (f.count - start), self.settings.max_delay_seconds)
                    left = (f.last + timedelta(seconds=delay) - now).total_seconds()
                    if left > 0:
                        raise FlowError(
                            "throttled",
                            f"mot de passe incorrect {f.count} fois : "
                            f"attendez {_wait_text(left)} avant de réessayer",
                        )

    def failed(self, username: str, address: str, now: datetime) -> list[Lock]:
        """Count a wrong password; returns the locks this failure starts."""
        locks = []
        with self._lock:
            for kind, table, key in (
                ("account", self._accounts, username.casefold()),
                ("address", self._addresses, address),
            ):
                f = self._forget_old(table, key, now)
                f.count += 1
                f.last = now
                _, lock_at = self._limits(kind)
                if f.count >= lock_at and f.locked_until is None:
                    f.locked_until = now + timedelta(minutes=self.settings.lock_minutes)
                    locks.append(Lock(kind, key, f.count, f.locked_until))
        return locks

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._accounts.pop(username.casefold(), None)

    def unlock(self, username: str) -> None:
        self.succeeded(username)
