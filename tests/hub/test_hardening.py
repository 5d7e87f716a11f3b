"""Defects found when the hub was probed as an attacker (issue 9), each against the
real hub over websockets: calls ended or recorded by the wrong desk, a desk's clock
trusted, input errors answered `internal`, a refusal leaking an invisible dossier,
abandoned uploads kept forever."""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient, HubError
from app.db.audit import AuditRead
from app.db.models import Call
from app.db.types import utcnow
from app.directory.desk_import import ImportHandlers, Uploads
from app.directory.protocol import DirectoryUpload
from app.room import Hub
from tests.hub.desks import exchange, logged_client, raw_desk
from tests.hub.digest import database_digest
from tests.waits import until


async def refused(client: HubClient, type_: str, **payload: Any) -> HubError:
    with pytest.raises(HubError) as caught:
        await client.request(type_, **payload)
    return caught.value


def the_call(sessions: sessionmaker[Session], ref: str) -> Call:
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == ref))
        assert call is not None
        return call


# -- 1. call.ended: role and holder ------------------------------------------------


async def test_call_ended_needs_a_call_taking_role_and_the_holder(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    n1, n1b, osnp, mrl, sup = [
        await logged_client(hub, u) for u in ("n1", "n1b", "osnp", "mrl", "sup")
    ]
    seen: list[str] = []
    sup.on_event.append(lambda m: seen.append(m["event"]))
    await n1.request("call.offered", call_ref="r1", line="15")
    for who in (osnp, mrl):
        err = await refused(who, "call.ended", call_ref="r1", reason="caller_gave_up")
        assert err.code == "forbidden"
    # Desks of a call-taking role the call never rang cannot abandon it either, and
    # are told exactly what a call that does not exist would tell them.
    unknown = await refused(n1b, "call.ended", call_ref="no-such-call", reason="caller_gave_up")
    for who in (n1b, sup):
        err = await refused(who, "call.ended", call_ref="r1", reason="caller_gave_up")
        assert (err.code, err.message) == (
            unknown.code,
            unknown.message.replace("no-such-call", "r1"),
        )
    assert the_call(sessions, "r1").ended_at is None
    await n1b.request("call.offered", call_ref="r1", line="15")  # the fork now rings n1b
    await n1.request("call.answered", call_ref="r1")  # still answerable
    # n1b, rung, stops ringing: the call held by n1 goes on; no desk sends a path.
    await n1b.request("call.ended", call_ref="r1", reason="hangup")
    err = await refused(
        n1b, "call.ended", call_ref="r1", reason="hangup", recording_path="/var/rec/x.wav"
    )
    assert err.code == "invalid_message"  # recordings are uploaded (app/recordings)
    err = await refused(sup, "call.ended", call_ref="r1", reason="hangup")
    assert err.code == "not_found"  # neither rung nor holding it
    call = the_call(sessions, "r1")
    assert call.ended_at is None and call.recording_path == ""
    # The holder ends it: an event.
    await n1.request("call.ended", call_ref="r1", reason="hangup")
    await until(lambda: "call.ended" in seen, "call.ended seen", timeout=5)
    assert the_call(sessions, "r1").ended_at is not None
    err = await refused(sup, "call.ended", call_ref="r1", reason="hangup")
    assert err.code == "not_found"  # an ended call is not shown to them either
    for c in (n1, n1b, osnp, mrl, sup):
        await c.close()


async def test_call_answered_only_from_a_desk_the_call_rang(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    n1, n1b, sup = [await logged_client(hub, u) for u in ("n1", "n1b", "sup")]
    await n1.request("call.offered", call_ref="r3", line="15", caller="0546000000")
    unknown = await refused(n1b, "call.answered", call_ref="no-such-call")
    # A desk the call never rang cannot take it (and the caller's number with it): it is
    # told what a call that does not exist would tell it, and nothing changes.
    before = database_digest(hub.engine, skip=frozenset({"login_sessions"}))
    for who in (n1b, sup):
        err = await refused(who, "call.answered", call_ref="r3")
        assert (err.code, err.message) == (
            unknown.code,
            unknown.message.replace("no-such-call", "r3"),
        )
    assert database_digest(hub.engine, skip=frozenset({"login_sessions"})) == before
    assert the_call(sessions, "r3").answered_at is None
    d = (await n1.request("call.answered", call_ref="r3"))["dossier"]  # the rung desk can
    # Once answered, a desk it never rang still learns nothing (not "answered elsewhere").
    err = await refused(n1b, "call.answered", call_ref="r3")
    assert (err.code, err.message) == (unknown.code, unknown.message.replace("no-such-call", "r3"))
    await n1b.request("call.offered", call_ref="r3", line="15")  # the fork rang n1b too
    err = await refused(n1b, "call.answered", call_ref="r3")
    assert err.code == "conflict"  # rung, it may know another desk took it
    assert n1.user is not None and the_call(sessions, "r3").answered_by_id == n1.user["id"]
    assert (await n1.request("call.answered", call_ref="r3"))["dossier"]["id"] == d["id"]
    for c in (n1, n1b, sup):
        await c.close()


# -- 5. call.recording ----------------------------------------------------------------


async def test_call_recording_only_on_an_answered_call_by_the_desk_that_answered(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    n1, n1b, osnp = [await logged_client(hub, u) for u in ("n1", "n1b", "osnp")]
    await n1.request("call.offered", call_ref="r2", line="116117")
    wav: dict[str, Any] = {"size": 48044, "sha256": "ab" * 32}  # declared, then uploaded
    err = await refused(n1, "call.recording", call_ref="r2", **wav)
    assert err.code == "forbidden"  # nobody answered it
    await n1.request("call.answered", call_ref="r2")
    for who in (n1b, osnp):
        err = await refused(who, "call.recording", call_ref="r2", **wav)
        assert err.code == "forbidden"
    for bad in ("rec/r2.wav", "/var/rec/../../etc/shadow.wav", "/var/rec/r2.wav"):
        err = await refused(n1, "call.recording", call_ref="r2", path=bad, **wav)
        assert err.code == "invalid_message", bad  # never a path from a desk
    assert the_call(sessions, "r2").recording_path == ""
    reply = await n1.request("call.recording", call_ref="r2", **wav)
    assert reply["state"] == "uploading" and reply["received"] == 0
    for c in (n1, n1b, osnp):
        await c.close()


# -- 9. ringing_at against the hub's clock -------------------------------------------


async def test_ringing_at_from_a_desk_is_kept_within_the_hub_clock(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    n1 = await logged_client(hub, "n1")
    before = utcnow()
    future = before + timedelta(days=2900)
    await n1.request("call.offered", call_ref="f1", line="15", ringing_at=future.isoformat())
    past = before - timedelta(days=30)
    await n1.request("call.offered", call_ref="f2", line="15", ringing_at=past.isoformat())
    honest = before - timedelta(seconds=7)
    await n1.request("call.offered", call_ref="f3", line="15", ringing_at=honest.isoformat())
    after = utcnow()
    assert before <= the_call(sessions, "f1").offered_at <= after  # never in the future
    f2 = the_call(sessions, "f2").offered_at
    assert before - timedelta(minutes=10) <= f2 <= after - timedelta(minutes=10)
    assert the_call(sessions, "f3").offered_at == honest  # a sane time is kept
    d = (await n1.request("call.answered", call_ref="f1"))["dossier"]
    assert d["ringing_at"] <= d["answered_at"]
    await n1.close()


# -- 10. input errors name the field ---------------------------------------------------

NOW = "2026-11-24T10:00:00+01:00"
BAD_INPUT: list[tuple[dict[str, Any] | str, str]] = [
    ('{"type": "ping", "id": 1, "x": ' + "[" * 30000 + "]" * 30000 + "}", "message"),
    ({"type": "ping", "id": 1, "x": json.loads("[" * 20 + "]" * 20)}, "x" + ".0" * 16),
    ({"type": "call.offered", "call_ref": "n1", "line": "15", "ringing_at": "2026-11-24T10:00:00"},
     "ringing_at"),
    ({"type": "slot.book_beyond", "effecteur_id": 1, "at": "2026-11-24T10:00:00"}, "at"),
    ({"type": "agenda.slot.create", "effecteur_id": 1, "start": "2026-11-25T10:00:00",
      "end": NOW}, "start"),
    ({"type": "task.close", "task_id": 1, "outcome": "RDV_MT",
      "appointment": {"with": "Dr X", "at": "2026-11-25T10:00:00"}}, "appointment.at"),
    ({"type": "callback.attempt", "target_id": 1, "result": "NO_ANSWER",
      "retry_at": "2026-11-24T12:00:00"}, "retry_at"),
    ({"type": "call.offered", "call_ref": "y1", "line": "15",
      "ringing_at": "0001-01-01T00:00:00+01:00"}, "ringing_at"),
    ({"type": "task.close", "task_id": 1, "outcome": "RDV_MT",
      "appointment": {"with": "Dr X", "at": "9999-12-31T23:59:59+00:00"}}, "appointment.at"),
    ({"type": "agenda.slot.create", "effecteur_id": 1, "start": NOW,
      "end": "9999-12-31T23:00:00-01:00"}, "end"),
    ({"type": "dossier.update", "dossier_id": 1,
      "fields": {"patient_birth_date": "0001-01-01"}}, "fields.patient_birth_date"),
    ({"type": "dossier.update", "dossier_id": 1, "fields": {"motif": "dou\u0000leur"}},
     "fields.motif"),
    ({"type": "call.offered", "call_ref": "nul\u0000", "line": "15"}, "call_ref"),
    ({"type": "login", "username": "n1\u0000", "password": "x"}, "username"),
]  # fmt: skip


async def check_bad_input(hub: Hub) -> None:
    ws = await raw_desk(hub)
    await exchange(ws, {"type": "login", "id": 0, "username": "sup", "password": "secret-test"})
    await ws.recv()  # snapshot
    digest = database_digest(hub.engine)
    for n, (message, field) in enumerate(BAD_INPUT):
        if isinstance(message, dict):
            message = json.dumps({**message, "id": 100 + n})
        reply = await exchange(ws, message)
        assert reply["type"] == "error" and reply["code"] == "invalid_message", (n, reply)
        assert reply["details"][0]["field"] == field, (n, reply)
        assert (await exchange(ws, {"type": "ping", "id": 1}))["type"] == "pong"
    assert database_digest(hub.engine) == digest
    await ws.close()


async def test_input_errors_name_the_field_on_sqlite(hub: Hub) -> None:
    await check_bad_input(hub)


@pytest.mark.peers
async def test_input_errors_name_the_field_on_postgresql(pg_url: str) -> None:
    hub = Hub(pg_url, "127.0.0.1", 0)
    await hub.start()
    try:
        await check_bad_input(hub)
    finally:
        await hub.stop()


# -- 11. dossier.take on a dossier the desk cannot see ----------------------------------


async def test_taking_an_invisible_dossier_is_not_found_leaks_nothing_and_is_audited(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    n1, mrl, mrl2, osnp, amu = [
        await logged_client(hub, u) for u in ("n1", "mrl", "mrl2", "osnp", "amu")
    ]
    await n1.request("call.offered", call_ref="t1", line="116117")
    d = (await n1.request("call.answered", call_ref="t1"))["dossier"]
    await n1.request("dossier.qualify", dossier_id=d["id"], priority="P2")
    for who in (osnp, amu):  # queued in SNP: none of their business
        err = await refused(who, "dossier.take", dossier_id=d["id"])
        assert err.code == "not_found"
        assert err.message == f"dossier {d['id']} introuvable ou non accessible"
    await mrl.request("dossier.take", dossier_id=d["id"])
    for who in (osnp, amu):
        err = await refused(who, "dossier.take", dossier_id=d["id"])
        assert err.code == "not_found" and d["number"] not in err.message
        assert "mrl" not in err.message
    nobody = await refused(osnp, "dossier.take", dossier_id=d["id"] + 1000)
    assert nobody.message == f"dossier {d['id'] + 1000} introuvable ou non accessible"
    # The other MRL read the SNP queue a moment ago: told it was taken, not by whom.
    err = await refused(mrl2, "dossier.take", dossier_id=d["id"])
    assert err.code == "conflict" and "mrl (" not in err.message
    # Each refusal is in the audit of reads, with who asked and for which dossier.
    with sessions() as s:
        rows = s.scalars(
            select(AuditRead).where(AuditRead.intent == "dossier.take").order_by(AuditRead.id)
        ).all()
        refusals = [(r.username, r.dossier_id, r.granted, r.detail) for r in rows]
    assert refusals == [
        ("osnp", d["id"], False, "not_found"),
        ("amu", d["id"], False, "not_found"),
        ("osnp", d["id"], False, "not_found"),
        ("amu", d["id"], False, "not_found"),
        ("osnp", d["id"] + 1000, False, "not_found"),
    ]
    assert rows[0].dossier_number == d["number"] and rows[0].desk
    for c in (n1, mrl, mrl2, osnp, amu):
        await c.close()


# -- 7. abandoned directory uploads ----------------------------------------------------


@pytest.fixture
async def clocked_hub(
    db_url: str, sessions: sessionmaker[Session]
) -> AsyncIterator[tuple[Hub, list[datetime]]]:
    now = [utcnow()]
    hub = Hub(db_url, "127.0.0.1", 0, clock=lambda: now[0])
    await hub.start()
    yield hub, now
    await hub.stop()


async def test_abandoned_uploads_are_freed_and_capped(
    clocked_hub: tuple[Hub, list[datetime]],
) -> None:
    hub, now = clocked_hub
    handler = hub.service._handlers[DirectoryUpload]
    assert inspect.ismethod(handler) and isinstance(handler.__self__, ImportHandlers)
    uploads: Uploads = handler.__self__.uploads
    sup = await logged_client(hub, "sup")
    chunk = base64.b64encode(b"x" * 30_000).decode()
    for upload_id in ("abandon-1", "abandon-2"):
        await sup.request("directory.upload", upload_id=upload_id, seq=0, data=chunk)
    assert uploads.held_bytes == 60_000
    err = await refused(sup, "directory.upload", upload_id="abandon-3", seq=0, data=chunk)
    assert err.code == "busy" and "2 fichiers" in err.message
    now[0] += timedelta(minutes=9)
    await sup.request("directory.upload", upload_id="abandon-2", seq=1, data=chunk)  # alive
    now[0] += timedelta(minutes=2)  # abandon-1 idle 11 min: freed
    await sup.request("directory.upload", upload_id="abandon-3", seq=0, data=chunk)
    assert uploads.held_bytes == 90_000
    err = await refused(
        sup, "directory.import", upload_id="abandon-1", kind="effecteurs", filename="a.csv"
    )
    assert err.code == "not_found"
    now[0] += timedelta(minutes=30)
    err = await refused(sup, "directory.upload", upload_id="abandon-2", seq=2, data=chunk)
    assert err.code == "invalid_message"  # the upload is gone: start again from chunk 0
    assert uploads.held_bytes == 0
    await sup.close()


async def test_all_uploads_together_are_capped() -> None:
    uploads = Uploads()
    uploads.MAX_TOTAL_BYTES = 100
    at = utcnow()
    uploads.add(1, "first-user", 0, b"a" * 60, at)
    uploads.add(2, "other-user", 0, b"b" * 30, at)
    with pytest.raises(Exception) as refused_:
        uploads.add(3, "third-user", 0, b"c" * 20, at)
    assert getattr(refused_.value, "code", None) == "busy"
    assert uploads.held_bytes == 90
