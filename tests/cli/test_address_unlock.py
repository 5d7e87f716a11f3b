"""An address locked after wrong passwords is lifted by hand, as docs/deploy.md says
(``sasdesk users unlock --config … --address …``), against a running hub: the desk at
that address logs in at once, nothing else changes."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from websockets.asyncio.client import connect

from app.config.settings import SessionSettings
from app.hub.throttle import LoginFailure
from app.room import Hub
from tests import command
from tests.conftest import PASSWORD
from tests.hub.desks import Clock, login, started

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = SessionSettings(
    throttle_after=100, lock_after=200, lock_minutes=15,
    address_throttle_after=2, address_lock_after=3,
)  # fmt: skip
#: A second loopback address (all of 127/8 is the loopback on Linux): the "guessing" desk.
GUESSER = "127.0.0.2"


def documented_unlock() -> str:
    lines = [
        line.strip()
        for line in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("sasdesk users unlock ")
    ]
    assert len(lines) == 1, lines
    return lines[0]


def sasdesk(line: str, config: Path, address: str) -> subprocess.CompletedProcess[str]:
    """The documented line, run as written but for the file's place and the address."""
    line = line.replace("/etc/sasdesk/hub.toml", str(config)).replace("10.0.0.7", address)
    words = shlex.split(line)
    assert words[0] == "sasdesk"
    return command.sasdesk(*words[1:])


async def desk_at(hub: Hub, address: str) -> Any:
    ws = await connect(hub.url, local_addr=(address, 0))
    assert json.loads(await ws.recv())["type"] == "welcome"
    return ws


async def test_an_address_lock_is_lifted_by_the_documented_command(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(f'[base]\nurl = "{db_url}"\n', encoding="utf-8")
    line = documented_unlock()
    clock = Clock()
    hub = await started(db_url, SETTINGS, clock)
    try:
        guesser = await desk_at(hub, GUESSER)
        for n, username in enumerate(("n1", "n1b", "mrl")):  # one address, three accounts
            clock.advance(seconds=2**n)
            assert (await login(guesser, username, "guess"))["code"] == "bad_credentials"
        reply = await login(guesser, "n2", PASSWORD)  # the right password, refused
        assert reply["code"] == "locked" and "ce poste est bloqué" in reply["message"]
        elsewhere = await desk_at(hub, "127.0.0.1")
        assert (await login(elsewhere, "sup", PASSWORD))["type"] == "ok"  # only that address

        done = sasdesk(line, config, GUESSER)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"adresse {GUESSER} : blocage levé (3 échec(s) oublié(s))"
        assert (await login(guesser, "n2", PASSWORD))["type"] == "ok"  # at once, same clock
        with sessions() as s:
            # The accounts' own counts are theirs: lifting an address leaves them.
            counted = s.scalars(select(LoginFailure).where(LoginFailure.failures > 0))
            keys = {(f.kind, f.key): f.failures for f in counted}
        assert keys == {("account", "n1"): 1, ("account", "n1b"): 1, ("account", "mrl"): 1}

        again = sasdesk(line, config, GUESSER)
        assert again.stdout.strip() == f"adresse {GUESSER} : aucun blocage ni échec compté"
        wrong = sasdesk(line, config, "10.0.0.300")
        assert wrong.returncode == 2 and "n'est pas une adresse IP" in wrong.stderr
        for ws in (guesser, elsewhere):
            await ws.close()
    finally:
        await hub.stop()


async def test_an_ipv4_desk_seen_through_a_dual_stack_socket_is_lifted_too(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from app.db.types import utcnow
    from app.hub.throttle import lift_address

    until = utcnow().replace(year=2100)
    with sessions.begin() as s:
        for key in ("::ffff:10.0.0.7", "10.0.0.8"):
            s.add(LoginFailure(kind="address", key=key, failures=50, last_at=utcnow(),
                               locked_until=until, locked_at_count=50))  # fmt: skip
    with sessions.begin() as s:
        assert lift_address(s, "10.0.0.7", utcnow()) == (50, True)
    with sessions() as s:
        assert [f.key for f in s.scalars(select(LoginFailure))] == ["10.0.0.8"]
