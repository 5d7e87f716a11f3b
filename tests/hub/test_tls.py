"""wss://: the hub's certificate from the settings, the desk's three ways to trust it,
and the rule that plain ws:// never leaves loopback without an explicit --insecure."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from websockets.asyncio.client import connect

from app.cli import build_parser
from app.cli.desk import hub_trust
from app.client.hub_client import HubClient, HubError
from app.client.trust import Confirm, HubTrust, PinStore, hub_address
from app.config.settings import HubSettings, TlsSettings
from app.hub.tls import ListenRefused, TlsConfigError, file_fingerprint, is_loopback
from app.room import Hub
from tests.certs import Authority, Issued, self_signed
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def tls_hub(db_url: str, issued: Issued, port: int = 0) -> AsyncIterator[Hub]:
    hub = Hub(
        db_url,
        "127.0.0.1",
        port,
        settings=HubSettings(tls=TlsSettings(cert=issued.cert, key=issued.key)),
    )
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def refusal(url: str, trust: HubTrust) -> str:
    client = HubClient(url, trust=trust, reconnect=False)
    with pytest.raises(HubError) as refused:
        await client.connect()
    assert refused.value.code == "certificate"
    return refused.value.message


async def test_handshake_with_the_room_ca_then_login(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    ca = Authority(tmp_path)
    async with tls_hub(db_url, ca.issue("hub")) as hub:
        assert hub.url.startswith("wss://127.0.0.1:")
        client = HubClient(hub.url, trust=HubTrust(ca.file, PinStore(tmp_path / "pins.json")))
        welcome = await client.connect()
        assert welcome["tls"] is True and welcome["insecure"] is False
        await client.login("n1", PASSWORD)
        assert client.snapshot is not None
        await client.close()
        # A desk that speaks plain ws:// to a wss:// hub does not get a welcome.
        with pytest.raises(Exception):  # noqa: B017 (any transport failure will do)
            async with connect(hub.url.replace("wss://", "ws://"), open_timeout=3) as ws:
                await asyncio.wait_for(ws.recv(), 3)
    assert not (tmp_path / "pins.json").exists()  # a CA-verified hub pins nothing


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("bad_ca", "n'est pas signé par une autorité reconnue"),
        ("expired", "le certificat du hub a expiré"),
        ("wrong_host", "n'est pas établi pour l'adresse 127.0.0.1"),
    ],
)
async def test_certificate_refused_with_a_clear_reason(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session], case: str, expected: str
) -> None:
    ca = Authority(tmp_path / "room")
    issued = {
        "bad_ca": lambda: Authority(tmp_path / "other", "Autre CA").issue("hub"),
        "expired": lambda: ca.issue("hub", expired=True),
        "wrong_host": lambda: ca.issue("hub", hosts=("hub.samu17.example",)),
    }[case]()
    async with tls_hub(db_url, issued) as hub:
        message = await refusal(hub.url, HubTrust(ca.file, PinStore(tmp_path / "pins.json")))
        assert expected in message and ca.file.name in message
        # With a CA file, no fingerprint is asked: the room's CA is the only authority.
        asked: list[str] = []

        async def ask(address: str, fp: str) -> bool:
            asked.append(fp)
            return True

        await refusal(hub.url, HubTrust(ca.file, PinStore(tmp_path / "pins.json"), ask))
        assert asked == []


async def test_fingerprint_accepted_once_pinned_then_a_changed_one_refused(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    first = self_signed(tmp_path / "first")
    pins = PinStore(tmp_path / "settings" / "hubs-pinned.json")
    asked: list[tuple[str, str]] = []

    def answering(yes: bool) -> Confirm:
        async def ask(address: str, fp: str) -> bool:
            asked.append((address, fp))
            return yes

        return ask

    async with tls_hub(db_url, first) as hub:
        port = hub.port
        # Headless, nobody to ask: refused, and the message shows the fingerprint to check.
        message = await refusal(hub.url, HubTrust(pins=pins))
        assert file_fingerprint(first.cert) in message
        # The user says no: refused, nothing pinned.
        await refusal(hub.url, HubTrust(pins=pins, confirm=answering(False)))
        assert pins.get(hub_address(hub.url)) is None
        # The user compares and says yes: connected, and pinned for this address.
        client = HubClient(hub.url, trust=HubTrust(pins=pins, confirm=answering(True)))
        await client.connect()
        await client.login("n1", PASSWORD)
        await client.close()
        assert asked[-1] == (f"127.0.0.1:{port}", file_fingerprint(first.cert))
        assert pins.get(f"127.0.0.1:{port}") == file_fingerprint(first.cert)
        # Next time nobody is asked: the pin is enough.
        asked.clear()
        client = HubClient(hub.url, trust=HubTrust(pins=pins, confirm=answering(True)))
        await client.connect()
        await client.close()
        assert asked == []
    # Another certificate on the same address (a hub replaced, or someone in between).
    second = self_signed(tmp_path / "second")
    async with tls_hub(db_url, second, port) as hub:
        message = await refusal(hub.url, HubTrust(pins=pins, confirm=answering(True)))
        assert "a changé" in message
        assert file_fingerprint(second.cert) in message and file_fingerprint(first.cert) in message
        assert asked == []  # never offered to the user: a changed certificate is refused
        assert pins.get(f"127.0.0.1:{port}") == file_fingerprint(first.cert)


def test_plain_ws_off_loopback_is_refused_before_anything_listens(db_url: str) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("10.1.2.3")
    hub = Hub(db_url, "0.0.0.0", 0)
    with pytest.raises(ListenRefused, match="--insecure"):
        asyncio.run(hub.start())
    assert hub._server is None
    hub.engine.dispose()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "hub",
            "--db",
            db_url,
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "refus d'écouter sur 0.0.0.0 sans TLS" in out.stderr and "--insecure" in out.stderr
    assert "Traceback" not in out.stderr


async def test_insecure_is_accepted_and_announced(
    db_url: str, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    settings = HubSettings(tls=TlsSettings(insecure=True))
    hub = Hub(db_url, "0.0.0.0", 0, settings=settings)
    with caplog.at_level(logging.WARNING, logger="app.hub.server"):
        await hub.start()
    try:
        assert any("INSECURE" in r.getMessage() for r in caplog.records)
        async with connect(f"ws://127.0.0.1:{hub.port}") as ws:
            welcome = json.loads(await ws.recv())
        assert welcome["insecure"] is True and welcome["tls"] is False
    finally:
        await hub.stop()


async def test_loopback_hub_is_not_announced_insecure(hub: Hub) -> None:
    async with connect(hub.url) as ws:
        welcome = json.loads(await ws.recv())
    assert welcome["tls"] is False and welcome["insecure"] is False


async def test_unusable_certificate_settings_are_refused(tmp_path: Path, db_url: str) -> None:
    ca = Authority(tmp_path)
    one, other = ca.issue("one"), ca.issue("other")
    for tls, expected in (
        (TlsSettings(cert=tmp_path / "missing.pem", key=one.key), "introuvable"),
        (TlsSettings(cert=one.cert, key=other.key), "la clé correspond-elle"),
        (TlsSettings(key=one.key), "sans certificat"),
    ):
        hub = Hub(db_url, "127.0.0.1", 0, settings=HubSettings(tls=tls))
        with pytest.raises(TlsConfigError, match=expected):
            await hub.start()
        hub.engine.dispose()


def test_hub_command_serves_wss_and_a_desk_pins_the_printed_fingerprint(
    tmp_path: Path,
    db_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = self_signed(tmp_path / "cert")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "hub",
            "--db",
            db_url,
            "--port",
            "0",
            "--tls-cert",
            str(issued.cert),
            "--tls-key",
            str(issued.key),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = fp = None
        while url is None or fp is None:
            line = proc.stderr.readline()
            assert line, "the hub stopped before listening"
            if found := re.search(r"listening on (wss://\S+)", line):
                url = found.group(1)
            if found := re.search(r"SHA-256 fingerprint (\S+)", line):
                fp = found.group(1)
        assert fp == file_fingerprint(issued.cert)
        # `sasdesk desk --hub URL --fingerprint FP`: the administrator's fingerprint, pinned.
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        args = build_parser().parse_args(["desk", "--hub", url, "--fingerprint", fp.lower()])
        trust = hub_trust(args)
        assert trust.pins.path.is_relative_to(tmp_path / "config")

        async def desk() -> dict[str, object]:
            client = HubClient(url, trust=trust, reconnect=False)
            welcome = await client.connect()
            await client.login("n1", PASSWORD)
            await client.close()
            return welcome

        assert asyncio.run(desk())["tls"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def test_the_documented_openssl_recipe_makes_a_certificate_the_hub_serves(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    recipe = next(b for b in re.findall(r"```sh\n(.*?)```", doc, re.S) if "openssl req" in b)
    out = subprocess.run(
        ["bash", "-e", "-c", recipe.replace("/etc/sasdesk", str(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    issued = Issued(tmp_path / "hub.crt", tmp_path / "hub.key")
    printed = out.stdout.strip().split("=", 1)[1]
    assert printed == file_fingerprint(issued.cert)
    async with tls_hub(db_url, issued) as hub:
        pins = PinStore(tmp_path / "pins.json")
        pins.put(hub_address(hub.url), printed)
        client = HubClient(hub.url, trust=HubTrust(pins=pins), reconnect=False)
        assert (await client.connect())["tls"] is True
        await client.close()


def test_desk_command_refuses_a_missing_ca_file_and_a_malformed_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    parser = build_parser()
    missing = parser.parse_args(["desk", "--hub", "wss://hub:8765", "--ca", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="fichier CA introuvable"):
        hub_trust(missing)
    short = parser.parse_args(["desk", "--hub", "wss://hub:8765", "--fingerprint", "AB:CD"])
    with pytest.raises(SystemExit, match="empreinte SHA-256 invalide"):
        hub_trust(short)
    assert not (tmp_path / "config").exists()  # nothing pinned


async def test_a_certificate_from_the_system_trust_store_needs_no_pin(
    tmp_path: Path,
    db_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # OpenSSL's default verify paths honour SSL_CERT_FILE: here it stands for the
    # system's store, holding the room's CA as an IT department would install it.
    ca = Authority(tmp_path, "CA installée sur le poste")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.file))
    pins = PinStore(tmp_path / "pins.json")
    asked: list[str] = []

    async def ask(address: str, fp: str) -> bool:
        asked.append(fp)
        return True

    async with tls_hub(db_url, ca.issue("hub")) as hub:
        client = HubClient(hub.url, trust=HubTrust(pins=pins, confirm=ask), reconnect=False)
        assert (await client.connect())["tls"] is True
        await client.close()
    assert asked == [] and not pins.path.exists()
