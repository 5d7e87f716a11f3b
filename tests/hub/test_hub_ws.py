"""The hub over real websockets: authentication, bad input, broadcasts, reconnection."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient, HubError, LinkState
from app.db.models import Event
from app.flow.protocol import CallOffered
from app.hub.protocol import MAX_MESSAGE_BYTES, Ping
from app.room import Hub
from tests.conftest import PASSWORD
from tests.hub.desks import exchange, logged_client, raw_desk
from tests.waits import until


def event_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Event)) or 0)


async def test_login_gives_token_and_snapshot(hub: Hub) -> None:
    client = await logged_client(hub, "n1")
    assert client.user and client.user["role"] == "ARM_N1"
    assert client.snapshot is not None and client.snapshot["dossiers"] == []
    assert client.state is LinkState.READY
    await client.close()


async def test_bad_credentials_and_unauthenticated(hub: Hub) -> None:
    ws = await raw_desk(hub)
    reply = await exchange(ws, {"type": "login", "id": 1, "username": "n1", "password": "no"})
    assert reply == {
        "type": "error",
        "code": "bad_credentials",
        "re": 1,
        "message": "identifiant ou mot de passe incorrect",
    }
    reply = await exchange(ws, {"type": "queue.list", "id": 2, "queue": "SNP"})
    assert reply["code"] == "unauthenticated"
    await ws.close()


async def test_bad_input_gets_an_error_and_changes_nothing(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    ws = await raw_desk(hub)
    await exchange(ws, {"type": "login", "id": 1, "username": "n1", "password": PASSWORD})
    await ws.recv()  # snapshot
    before = event_count(sessions)
    cases = {
        '{"type": "ping"': "invalid_json",
        json.dumps({"type": "hack.all", "id": 3}): "unknown_type",
        json.dumps(
            {"type": "dossier.qualify", "id": 4, "dossier_id": [1], "priority": 2}
        ): "invalid_message",
        json.dumps(
            {"type": "dossier.note", "id": 5, "dossier_id": 1, "text": "é" * MAX_MESSAGE_BYTES}
        ): "too_large",
        "\x00\xff garbage": "invalid_json",
        json.dumps({"type": "dossier.get", "id": 6, "dossier_id": 999}): "not_found",
    }
    for raw, code in cases.items():
        reply = await exchange(ws, raw)
        assert reply["type"] == "error" and reply["code"] == code, (raw[:40], reply)
        assert reply["message"]
    # The connection is untouched: still logged in, still answering.
    assert (await exchange(ws, {"type": "ping", "id": 9}))["type"] == "pong"
    reply = await exchange(ws, {"type": "call.offered", "id": 10, "call_ref": "ok-1", "line": "15"})
    assert reply["type"] == "ok"
    assert event_count(sessions) == before + 1  # only the valid intent left a trace
    await ws.close()


async def test_events_reach_the_desks_concerned_and_only_them(hub: Hub) -> None:
    n1 = await logged_client(hub, "n1")
    mrl = await logged_client(hub, "mrl")
    amu = await logged_client(hub, "amu")
    seen: dict[str, list[str]] = {"mrl": [], "amu": []}
    mrl.on_event.append(lambda m: seen["mrl"].append(m["event"]))
    amu.on_event.append(lambda m: seen["amu"].append(m["event"]))
    await n1.request("call.offered", call_ref="c1", line="116117", caller="0639980111")
    dossier = (await n1.request("call.answered", call_ref="c1"))["dossier"]
    await n1.request("dossier.qualify", dossier_id=dossier["id"], priority="P2")
    await mrl.request("dossier.take", dossier_id=dossier["id"])
    await until(lambda: len(seen["mrl"]) >= 2, lambda: f"the MRL's events ({seen['mrl']})")
    await amu.call(Ping)  # a round trip after the events: any sent to the AMU desk are in
    assert seen["mrl"] == ["dossier.qualified", "dossier.taken"]
    assert seen["amu"] == []  # an SNP dossier is none of the AMU doctor's business
    for c in (n1, mrl, amu):
        await c.close()


async def test_reconnecting_desk_gets_its_state_and_flushes_typed_fields(
    hub: Hub, tmp_path: Path
) -> None:
    journal = tmp_path / "outbox.json"
    n1 = await logged_client(hub, "n1", journal=journal)
    await n1.request("call.offered", call_ref="c2", line="15")
    dossier = (await n1.request("call.answered", call_ref="c2"))["dossier"]
    # The hub goes away; the ARM keeps typing.
    port = hub.port
    await hub.stop()
    await until(lambda: n1.state is LinkState.DISCONNECTED, "the desk sees the hub gone")
    n1.save_fields(dossier["id"], {"motif": "Entorse de cheville", "patient_age": 27})
    assert json.loads(journal.read_text())[str(dossier["id"])]["motif"] == "Entorse de cheville"
    # The hub comes back on the same port and database.
    again = Hub(hub.db_url, "127.0.0.1", port)
    await again.start()
    try:
        await until(
            lambda: n1.state is LinkState.READY and not n1.outbox.pending,
            lambda: f"reconnected and flushed ({n1.state}, {n1.outbox.pending})",
            timeout=10,
        )
        assert n1.outbox.pending == {}
        assert n1.snapshot is not None
        mine = [d for d in n1.snapshot["dossiers"] if d["id"] == dossier["id"]]
        assert mine, "the reconnected desk sees its open dossier again"
        got = (await n1.request("dossier.get", dossier_id=dossier["id"]))["dossier"]
        assert got["motif"] == "Entorse de cheville" and got["patient_age"] == 27
    finally:
        await n1.close()
        await again.stop()


async def test_outbox_journal_survives_a_desk_restart(hub: Hub, tmp_path: Path) -> None:
    journal = tmp_path / "outbox.json"
    n1 = await logged_client(hub, "n1")
    await n1.request("call.offered", call_ref="c3", line="15")
    dossier = (await n1.request("call.answered", call_ref="c3"))["dossier"]
    await n1.close()
    # A desk killed before it could send: only the journal holds the typed text.
    journal.write_text(json.dumps({str(dossier["id"]): {"motif": "Cystite"}}))
    restarted = HubClient(hub.url, journal=journal)
    assert restarted.outbox.pending == {dossier["id"]: {"motif": "Cystite"}}
    await restarted.connect()
    await restarted.login("n1", PASSWORD)
    await until(lambda: not restarted.outbox.pending, "the journal flushed", timeout=5)
    got = (await restarted.request("dossier.get", dossier_id=dossier["id"]))["dossier"]
    assert got["motif"] == "Cystite"
    assert json.loads(journal.read_text()) == {}
    await restarted.close()


async def test_refusal_raises_hub_error_with_code(hub: Hub) -> None:
    osnp = await logged_client(hub, "osnp")
    try:
        await osnp.request("queue.list", queue="SNP")
    except HubError as exc:
        assert exc.code == "forbidden"
    else:
        raise AssertionError("OSNP read the SNP queue")
    await osnp.close()


async def test_unreachable_hub_is_a_clear_error() -> None:
    client = HubClient("ws://127.0.0.1:9", reconnect=False)
    try:
        await client.connect()
    except HubError as exc:
        assert exc.code == "unreachable" and "injoignable" in exc.message
    else:
        raise AssertionError("connected to nothing")


async def test_compression_only_when_the_room_asks_for_it(
    hub: Hub, db_url: str, tmp_path: Path
) -> None:
    """A desk offers permessage-deflate; a room's hub declines it (LAN: compressing every
    event again per desk only costs the hub), one configured with ``[ecoute] compression
    = true`` (desks behind a slow link) accepts it, and events still arrive."""
    from app.config.hubfile import load_hub_file

    plain = await raw_desk(hub)
    assert plain.response.headers.get("Sec-WebSocket-Extensions") is None
    await plain.close()
    conf = tmp_path / "hub.toml"
    conf.write_text("[ecoute]\ncompression = true\n", encoding="utf-8")
    remote = Hub(db_url, "127.0.0.1", 0, settings=load_hub_file(conf))
    await remote.start()
    try:
        ws = await raw_desk(remote)
        assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]
        await ws.close()
        n1 = await logged_client(remote, "n1")
        watcher = await logged_client(remote, "sup")
        seen: list[str] = []
        watcher.on_event.append(lambda msg: seen.append(msg["event"]))
        await n1.call(CallOffered, call_ref="compressed-1", line="15", caller="0639900001")
        await until(lambda: "call.offered" in seen, "the supervisor sees the call")
        await n1.close()
        await watcher.close()
    finally:
        await remote.stop()


async def test_a_desk_gets_its_messages_in_order_around_a_message_in_parts(hub: Hub) -> None:
    """Events wait in the hub's outbox for the next turn of its loop; a message large
    enough to go in parts is sent at once: what was queued before it leaves first."""
    from app.hub.framing import PART_CHARS
    from app.hub.service import Outgoing
    from app.hub.visibility import Audience

    ws = await raw_desk(hub, max_size=None)  # a part frame is a little over 1 MiB
    await exchange(ws, {"type": "login", "id": 1, "username": "sup", "password": PASSWORD})
    await ws.recv()  # snapshot
    (conn,) = [c for c in hub.connections if c.principal is not None]
    everyone = Audience()  # the supervisors
    hub.broadcast([Outgoing({"type": "event", "n": 1}, everyone)])
    await conn.send({"type": "large", "data": "x" * (PART_CHARS + 10)})
    hub.broadcast([Outgoing({"type": "event", "n": 2}, everyone)])
    frames = [json.loads(await ws.recv()) for _ in range(4)]
    assert [f["type"] for f in frames] == ["event", "part", "part", "event"]
    assert frames[0]["n"] == 1 and frames[3]["n"] == 2
    assert json.loads(frames[1]["data"] + frames[2]["data"])["type"] == "large"
    await ws.close()
