"""The desk's trust decision is taken again at every reconnection: the pinned fingerprint
is reused silently when the hub comes back with its certificate, and a hub that comes
back on the same address with another certificate is refused (nobody is asked, and the
session's token is never sent to it)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient, LinkState
from app.client.trust import HubTrust, PinStore
from app.hub.tls import file_fingerprint
from tests.certs import self_signed
from tests.conftest import PASSWORD
from tests.hub.test_tls import tls_hub
from tests.waits import until


async def test_reconnections_reuse_the_pin_silently_and_refuse_a_changed_certificate(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    first, second = self_signed(tmp_path / "first"), self_signed(tmp_path / "second")
    asked: list[str] = []
    states: list[tuple[LinkState, str]] = []

    async def ask(address: str, fp: str) -> bool:
        asked.append(fp)
        return True

    trust = HubTrust(pins=PinStore(tmp_path / "hubs-pinned.json"), confirm=ask)
    async with tls_hub(db_url, first) as hub:
        port = hub.port
        client = HubClient(hub.url, trust=trust)
        client.on_state.append(lambda state, detail: states.append((state, detail)))
        await client.connect()
        await client.login("n1", PASSWORD)
        assert asked == [file_fingerprint(first.cert)]  # accepted once, pinned
    try:
        await until(lambda: client.state is LinkState.DISCONNECTED)
        # The same hub comes back: reconnected and resumed, nobody asked again.
        async with tls_hub(db_url, first, port):
            await until(lambda: client.state is LinkState.READY, timeout=10)
            assert asked == [file_fingerprint(first.cert)]
            await client.request("call.offered", call_ref="after-reconnect", line="15")
        await until(lambda: client.state is LinkState.DISCONNECTED)
        # Another certificate on that address: every attempt refused, never asked.
        states.clear()
        async with tls_hub(db_url, second, port) as impostor:

            def refusals() -> list[str]:
                return [d for _, d in states if "a changé" in d]

            await until(lambda: len(refusals()) >= 3, "three refused attempts", timeout=15)
            assert file_fingerprint(second.cert) in refusals()[0]
            assert client.state is not LinkState.READY
            assert asked == [file_fingerprint(first.cert)]
            # The token never reached it: no connection of that hub is logged in.
            assert all(c.principal is None for c in impostor.connections)
            assert trust.pins.get(f"127.0.0.1:{port}") == file_fingerprint(first.cert)
    finally:
        await client.close()
