"""The room's telephony for any test: Kamailio (the room's proxy) and SIPp (the callers),
started per test on 127.0.0.1 and cleaned up at its end. The fixtures are registered by
tests/telephony/conftest.py and tests/ui/conftest.py (the desk tests on a SIP line)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from telephony.kamailio import Desk, KamailioRoom
from telephony.kamailio.sipp import Sipp

DOMAIN = "sas.local"


@pytest.fixture
def room_factory() -> Iterator[Callable[..., KamailioRoom]]:
    """``room_factory(desks, **room)``: a Kamailio room, started unless ``start=False``
    (a gateway to set first), cleaned up after the test."""
    rooms: list[KamailioRoom] = []

    def make(desks: list[Desk], *, start: bool = True, **kw: Any) -> KamailioRoom:
        room = KamailioRoom(desks, **{"domain": DOMAIN, **kw})
        rooms.append(room)
        if start:
            room.start()
        return room

    yield make
    for room in rooms:
        room.cleanup()


@pytest.fixture
def sipp_factory() -> Iterator[Callable[..., Sipp]]:
    """``sipp_factory(scenario, **run)``: a SIPp run, cleaned up after the test."""
    runs: list[Sipp] = []

    def make(scenario: str, **kw: Any) -> Sipp:
        run = Sipp(scenario, **kw)
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.cleanup()
