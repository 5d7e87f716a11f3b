"""The desk tests' loop fails a scenario that awaits forever (tests/ui/conftest.py)."""

from __future__ import annotations

import asyncio

import pytest

import tests.ui.conftest as ui_conftest


def test_a_scenario_that_awaits_forever_fails_and_names_what_it_awaits(
    qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui_conftest, "SCENARIO_SECONDS", 0.3)

    async def forever() -> None:
        await qloop.create_future()  # nothing scheduled: Qt's loop sleeps in poll

    with pytest.raises(AssertionError, match="still awaited after 0 s") as failed:
        qloop.run_until_complete(forever())
    assert "forever" in str(failed.value)


def test_a_scenario_that_ends_gives_its_result(qloop: asyncio.AbstractEventLoop) -> None:
    async def answer() -> int:
        done = qloop.create_future()
        qloop.call_soon(done.set_result, 42)
        return await done

    assert qloop.run_until_complete(answer()) == 42
