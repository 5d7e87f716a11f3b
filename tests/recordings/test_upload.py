"""Recordings go to the hub's store: chunked, resumable, SHA-256 checked, refused to
anyone but the desk that answered the call, never taken as a path from a desk."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubError
from app.client.recordings import RecordingUploader
from app.db.models import Call, Event
from app.recordings.models import Recording
from app.room import Hub
from tests.recordings.helpers import answered_call, logged, make_wav


def stored_row(sessions: sessionmaker[Session], call_ref: str) -> tuple[Recording, Call]:
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == call_ref))
        assert call is not None
        row = s.scalar(select(Recording).where(Recording.call_id == call.id))
        assert row is not None
        return row, call


async def test_upload_stores_links_and_deletes_the_local_copy(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    sup = await logged(rec_hub.url, "sup")
    seen: list[dict[str, object]] = []
    sup.on_event.append(seen.append)
    dossier = await answered_call(n1, "call-a@room")
    wav = tmp_path / "desk" / "20261124T060000_call-a_room.wav"
    digest = make_wav(wav, 5.0)  # 160 kB: five chunks
    uploader = RecordingUploader(n1, tmp_path / "desk" / "recordings.json", wav.parent)
    reply = await uploader.upload("call-a@room", wav)
    assert reply["state"] == "stored" and reply["sha256"] == digest
    assert not wav.exists()  # deleted only now that the hub confirmed the hash
    row, call = stored_row(sessions, "call-a@room")
    assert row.state == "stored" and row.dossier_id == dossier["id"]
    kept = store / row.stored_name
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest
    assert call.recording_path == row.stored_name and not Path(row.stored_name).is_absolute()
    assert not any((store / ".partial").iterdir())
    with sessions() as s:
        event = s.scalar(select(Event).where(Event.type == "call.recorded"))
        assert event is not None and event.dossier_id == dossier["id"]
        assert event.data["sha256"] == digest
    # Declaring it again (a replay after a lost reply) says it is kept, nothing re-sent.
    again = await n1.request("call.recording", call_ref="call-a@room", size=row.size, sha256=digest)
    assert again["state"] == "stored" and again["received"] == row.size
    await n1.close()
    assert any(e["event"] == "call.recorded" for e in seen)
    await sup.close()


async def test_an_interrupted_upload_resumes_where_the_hub_is(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    await answered_call(n1, "call-b@room")
    wav = tmp_path / "b.wav"
    digest = make_wav(wav, 4.0)
    data = wav.read_bytes()
    await n1.request("call.recording", call_ref="call-b@room", size=len(data), sha256=digest)
    for offset in (0, 32768):
        await n1.request(
            "recording.chunk",
            call_ref="call-b@room",
            offset=offset,
            data=base64.b64encode(data[offset : offset + 32768]).decode(),
        )
    await n1.close()  # the connection drops mid-upload

    n1 = await logged(rec_hub.url, "n1")
    begun = await n1.request(
        "call.recording", call_ref="call-b@room", size=len(data), sha256=digest
    )
    assert begun["received"] == 65536  # resumed, not restarted
    with pytest.raises(HubError) as stale:  # a chunk at the wrong offset changes nothing
        await n1.request(
            "recording.chunk",
            call_ref="call-b@room",
            offset=0,
            data=base64.b64encode(data[:100]).decode(),
        )
    assert stale.value.code == "invalid_state" and "65536" in stale.value.message
    uploader = RecordingUploader(n1, tmp_path / "recordings.json", None)
    await uploader.upload("call-b@room", wav)
    row, _call = stored_row(sessions, "call-b@room")
    assert (store / row.stored_name).read_bytes() == data
    await n1.close()


async def test_hash_mismatch_keeps_nothing_and_the_desk_sends_it_again(
    rec_hub: Hub,
    sessions: sessionmaker[Session],
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    await answered_call(n1, "call-c@room")
    wav = tmp_path / "c.wav"
    make_wav(wav, 1.0)
    data = wav.read_bytes()
    await n1.request("call.recording", call_ref="call-c@room", size=len(data), sha256="0" * 64)
    for offset in range(0, len(data), 32768):
        await n1.request(
            "recording.chunk",
            call_ref="call-c@room",
            offset=offset,
            data=base64.b64encode(data[offset : offset + 32768]).decode(),
        )
    with pytest.raises(HubError) as bad:
        await n1.request("recording.commit", call_ref="call-c@room")
    assert bad.value.code == "hash_mismatch"
    row, call = stored_row(sessions, "call-c@room")
    assert row.state == "uploading" and call.recording_path == ""
    assert not (store / ".partial" / f"{call.id}.wav").exists()
    # Damaged on the way: the hub's copy differs from the desk's file. The uploader
    # sends it again in full and keeps its file until the hash matches.
    uploader = RecordingUploader(n1, tmp_path / "recordings.json", None)
    real_send = uploader._send_from
    damaged = {"left": 1}

    async def flaky(call_ref: str, path: Path, offset: int, size: int) -> None:
        if damaged["left"]:
            damaged["left"] -= 1
            await n1.request(
                "recording.chunk",
                call_ref=call_ref,
                offset=0,
                data=base64.b64encode(b"\0" * size).decode(),
            )
            return
        await real_send(call_ref, path, offset, size)

    monkeypatch.setattr(uploader, "_send_from", flaky)
    reply = await uploader.upload("call-c@room", wav)
    assert reply["sha256"] == hashlib.sha256(data).hexdigest() and not wav.exists()
    await n1.close()


async def test_only_the_desk_that_answered_uploads_and_never_a_path(
    rec_hub: Hub, tmp_path: Path
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    other = await logged(rec_hub.url, "n1b")
    mrl = await logged(rec_hub.url, "mrl")
    await answered_call(n1, "call-d@room")
    await n1.request("call.offered", call_ref="ringing@room", line="15", caller="")
    declare: dict[str, Any] = {"size": 1000, "sha256": "a" * 64}
    for client, ref, code in (
        (other, "call-d@room", "forbidden"),  # another ARM: not the desk that answered
        (mrl, "call-d@room", "forbidden"),  # a role that does not answer calls
        (n1, "ringing@room", "forbidden"),  # nobody answered it
        (n1, "nope@room", "not_found"),
    ):
        with pytest.raises(HubError) as refused:
            await client.request("call.recording", call_ref=ref, **declare)
        assert refused.value.code == code, (ref, refused.value)
    with pytest.raises(HubError) as chunk:
        await other.request("recording.chunk", call_ref="call-d@room", offset=0, data="AAAA")
    assert chunk.value.code == "forbidden"
    with pytest.raises(HubError) as with_path:
        await n1.request("call.recording", call_ref="call-d@room", path="/etc/passwd", **declare)
    assert with_path.value.code == "invalid_message"
    with pytest.raises(HubError) as early:  # chunks before the declaration
        await n1.request("recording.chunk", call_ref="call-d@room", offset=0, data="AAAA")
    assert early.value.code == "invalid_state"
    await n1.request("call.recording", call_ref="call-d@room", **declare)
    with pytest.raises(HubError) as too_big:
        await n1.request(
            "recording.chunk",
            call_ref="call-d@room",
            offset=0,
            data=base64.b64encode(b"x" * 1001).decode(),
        )
    assert too_big.value.code == "too_large"
    for client in (n1, other, mrl):
        await client.close()
