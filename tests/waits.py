"""Waiting in tests: for a condition, with a deadline, never for a fixed time.

A fixed sleep is either too short on a loaded machine (a flaky test) or too long on a
quiet one (a slow suite). These poll the condition and fail naming what was awaited;
tests/guards/test_no_fixed_sleeps.py keeps new fixed sleeps out of the tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How often a condition is polled: short next to every deadline used in the tests.
POLL_SECONDS = 0.02


def _failure(what: str | Callable[[], str], condition: object, timeout: float) -> AssertionError:
    text = what() if callable(what) else what
    return AssertionError(f"timed out after {timeout} s waiting for: {text or condition}")


async def until(
    condition: Callable[[], T | None], what: str | Callable[[], str] = "", timeout: float = 20.0
) -> T:
    """Wait (on the running loop) until ``condition()`` is true; fail with what was awaited
    (and, when ``what`` is a callable, what was seen).

    Returns the condition's first true value (``await until(lambda: form.dossier)`` is the
    dossier, typed without its None)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (seen := condition()):
        if asyncio.get_running_loop().time() > deadline:
            raise _failure(what, condition, timeout)
        await asyncio.sleep(POLL_SECONDS)
    return seen


def wait_until(
    condition: Callable[[], T | None], what: str | Callable[[], str] = "", timeout: float = 10.0
) -> T:
    """The same for threads (the SIP line, subprocesses): blocks until ``condition()`` is
    true and returns its value."""
    deadline = time.monotonic() + timeout
    while not (seen := condition()):
        if time.monotonic() > deadline:
            raise _failure(what, condition, timeout)
        time.sleep(POLL_SECONDS)
    return seen
