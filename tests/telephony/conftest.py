"""Real peers for the SIP line: Kamailio (the room's proxy) and SIPp (the callers).

Everything binds 127.0.0.1 on ports the OS picks, so these tests can run beside
anything else. Peers are started per test and killed at teardown.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from telephony.kamailio import Desk, KamailioRoom
from telephony.line import LineEvent, LineEventKind
from telephony.sip import SipConfig, SipLine
from telephony.sip.dialog import Call
from tests.sip_room import DOMAIN, room_factory, sipp_factory

__all__ = ["DOMAIN", "room_factory", "sipp_factory"]  # fixtures registered here

REPO = Path(__file__).resolve().parents[2]


def _peers_missing() -> str:
    missing = [
        name
        for name in ("kamailio", "sipp")
        if not shutil.which(name) and not Path(f"/usr/sbin/{name}").exists()
    ]
    return ", ".join(missing)


@pytest.fixture(scope="session", autouse=True)
def _install_peers(request: pytest.FixtureRequest) -> None:
    """The project's script installs the peers (CI starts from a clean machine)."""
    if not _peers_missing():
        return
    subprocess.run(["sh", str(REPO / "scripts" / "install-peers.sh")], check=True)


class EventLog:
    """Events of one line, collected from its threads; wait on them without sleeping."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[LineEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: LineEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def kinds(self) -> list[str]:
        with self._cond:
            return [str(e.kind) for e in self.events]

    def of(self, kind: LineEventKind) -> list[LineEvent]:
        with self._cond:
            return [e for e in self.events if e.kind == kind]

    def wait(
        self,
        kind: LineEventKind,
        timeout: float = 10.0,
        where: Callable[[LineEvent], bool] = lambda e: True,
        count: int = 1,
    ) -> LineEvent:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if e.kind == kind and where(e)]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.name}: no {kind} (x{count}) within {timeout}s; got {self.kinds()}"
                    )
                self._cond.wait(left)


@pytest.fixture
def line_factory() -> Iterator[Callable[..., tuple[SipLine, EventLog]]]:
    lines: list[SipLine] = []

    def make(
        room: KamailioRoom, user: str, password: str, start: bool = True, **kw: Any
    ) -> tuple[SipLine, EventLog]:
        fields: dict[str, Any] = {"server": room.host, "port": room.port, "domain": DOMAIN}
        config = SipConfig(user=user, password=password, **{**fields, **kw})
        line = SipLine(config)
        log = EventLog(user)
        line.subscribe(log)
        lines.append(line)
        if start:
            line.start()
        return line, log

    yield make
    for line in lines:
        line.stop()


def call_of(line: SipLine, call_id: str) -> Call:
    """The line's call ``call_id``, which the test knows is there."""
    call = line.call_info(call_id)
    assert call is not None, f"no call {call_id} on {line.config.user}"
    return call


def answer_on_ring(line: SipLine, log: EventLog, delay: float = 0.0) -> None:
    """Make ``line`` answer its incoming calls (after ``delay`` seconds)."""

    def on(event: LineEvent) -> None:
        if event.kind == LineEventKind.RINGING:
            if delay:
                threading.Timer(delay, line.answer, args=(event.call_id,)).start()
            else:
                line.answer(event.call_id)

    line.subscribe(on)


def n1_room(room_factory: Callable[..., KamailioRoom], n: int = 1, **kw: object) -> KamailioRoom:
    desks = [Desk(f"arm{i}", f"secret-{i}", "n1") for i in range(1, n + 1)]
    desks += [
        Desk("amu1", "secret-amu", "n2-amu"),
        Desk("snp1", "secret-snp", "n2-snp"),
        Desk("osnp1", "secret-osnp", ""),
        Desk("patient", "secret-patient", ""),
    ]
    return room_factory(desks, **kw)
