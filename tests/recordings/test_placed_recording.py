"""Calls placed from the slot search (F7: a doctor phoned from the results) are recorded
centrally like incoming and call-back calls: the desk uploads the WAV (chunked, SHA-256
checked) as ``recording.placed``, the hub keeps it in its store linked to the dossier in
hand, the local copy goes only once the hub confirmed the hash; nobody else may upload
it, and a dossier the desk does not see is refused with the file kept."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubError
from app.client.recordings import RecordingUploader, fetch_recording
from app.db.models import Event
from app.room import Hub
from telephony.line import LineEvent, LineEventKind
from tests.recordings.helpers import logged, make_wav, mrl_holding_a_dossier, placed_row
from tests.waits import until


class FakeLine:
    """The line's events, as the SIP line gives them to its listeners."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[LineEvent], None]] = []

    def subscribe(self, listener: Callable[[LineEvent], None]) -> None:
        self.listeners.append(listener)

    def emit(self, event: LineEvent) -> None:
        for listener in self.listeners:
            listener(event)


async def test_a_call_placed_from_the_search_goes_to_the_hub_linked_to_the_dossier(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1, mrl, did = await mrl_holding_a_dossier(rec_hub.url, "in-placed@room")
    record_dir = tmp_path / "desk" / "rec"
    uploader = RecordingUploader(mrl, tmp_path / "desk" / "recordings.json", record_dir)
    line = FakeLine()
    uploader.attach(line)
    uploader.start()

    # F7 on a doctor of the results: the desk dials, then tells the uploader the dossier.
    ref = "f7-1@desk-mrl"
    line.emit(LineEvent(LineEventKind.DIALING, call_id=ref, number="0546123456"))
    uploader.note_placed(ref, dossier_id=did, number="0546123456", callee="Dr Claire Vasseur")
    answered = datetime.now(UTC) - timedelta(seconds=4)
    line.emit(LineEvent(LineEventKind.ANSWERED, call_id=ref, at=answered.timestamp()))
    wav = record_dir / "20261124T100000_f7-1_desk-mrl.wav"
    digest = make_wav(wav, 3.0)  # 96 kB: three chunks
    line.emit(LineEvent(LineEventKind.ENDED, call_id=ref, reason="local_hangup"))
    line.emit(LineEvent(LineEventKind.RECORDING, call_id=ref, path=str(wav)))
    await until(lambda: ref in uploader.uploaded, "uploaded")
    assert not wav.exists()  # deleted only once the hub confirmed the hash
    assert ref not in uploader.journal.entries
    row = placed_row(sessions, ref)
    assert row is not None and row.state == "stored"
    assert row.dossier_id == did and row.sha256 == digest
    assert (row.placed_number, row.placed_to) == ("0546123456", "Dr Claire Vasseur")
    assert row.call_id is None and row.attempt_id is None
    assert abs((row.started_at - answered).total_seconds()) < 1  # when it was answered
    kept = store / row.stored_name
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest
    assert not any((store / ".partial").iterdir())
    with sessions() as s:
        event = s.scalar(
            select(Event).where(Event.type == "call.recorded", Event.dossier_id == did)
        )
        assert event is not None
        assert event.data["call_ref"] == ref and event.data["callee"] == "Dr Claire Vasseur"

    # Declared again (a reply lost): kept already, nothing re-sent.
    again = await mrl.request(
        "recording.placed", call_ref=ref, size=row.size, sha256=digest, dossier_id=did
    )
    assert again["state"] == "stored"

    # Nobody else uploads it: another doctor, an ARM (no slot search), the same ref
    # passed off as an incoming call.
    amu = await logged(rec_hub.url, "amu")
    with pytest.raises(HubError) as refused:
        await amu.request("recording.placed", call_ref=ref, size=row.size, sha256=digest)
    assert refused.value.code == "forbidden"
    with pytest.raises(HubError) as refused:
        await amu.request("recording.commit", call_ref=ref)
    assert refused.value.code == "forbidden"
    with pytest.raises(HubError) as refused:
        await n1.request("recording.placed", call_ref=ref, size=row.size, sha256=digest)
    assert refused.value.code == "forbidden"
    with pytest.raises(HubError) as taken:
        await mrl.request(
            "recording.placed", call_ref="in-placed@room", size=row.size, sha256=digest
        )
    assert taken.value.code == "conflict"  # the incoming call's ref: not a placed call

    # The supervisor plays it from the hub (the dossier's incoming call has none).
    sup = await logged(rec_hub.url, "sup")
    meta = await fetch_recording(sup, did, tmp_path / "played.wav")
    assert meta["sha256"] == digest and meta["placed_ref"] == ref
    await uploader.stop()
    for client in (n1, mrl, amu, sup):
        await client.close()


async def test_a_dossier_the_desk_does_not_see_is_refused_and_the_file_kept(
    rec_hub: Hub, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    n1, mrl, did = await mrl_holding_a_dossier(rec_hub.url, "in-hidden@room")
    amu = await logged(rec_hub.url, "amu")  # an AMU doctor: the SNP dossier is not his
    wav = tmp_path / "desk" / "f7-2.wav"
    digest = make_wav(wav, 1.0)
    uploader = RecordingUploader(amu, tmp_path / "desk" / "recordings.json", wav.parent)
    placed = {"dossier_id": did, "number": "0546000000", "callee": "Dr X"}
    with pytest.raises(HubError) as refused:
        await uploader.upload("f7-2@desk-amu", wav, outgoing=True, placed=placed)
    assert refused.value.code == "not_found"
    assert str(did) in refused.value.message and "Dr X" not in refused.value.message
    assert wav.exists() and placed_row(sessions, "f7-2@desk-amu") is None
    # Placed with no dossier in hand: kept all the same (the law), linked to no dossier.
    reply = await uploader.upload("f7-2@desk-amu", wav, placed={"number": "0546000000"})
    row = placed_row(sessions, "f7-2@desk-amu")
    assert reply["state"] == "stored" and row is not None and row.sha256 == digest
    assert row.dossier_id is None and not wav.exists()
    for client in (n1, mrl, amu):
        await client.close()


async def test_a_dossier_moved_on_since_the_call_still_gets_its_recording(
    rec_hub: Hub, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The MRL read the dossier, phoned a doctor from the search, then moved the dossier
    to the AMU track (out of his sight) before the upload: it is linked all the same."""
    n1, mrl, did = await mrl_holding_a_dossier(rec_hub.url, "in-moved@room")
    await mrl.request("dossier.get", dossier_id=did)  # the dossier in hand, read
    await mrl.request("dossier.move_track", dossier_id=did, track="AMU", reason="douleur")
    with pytest.raises(HubError) as hidden:
        await mrl.request("dossier.get", dossier_id=did)
    assert hidden.value.code == "not_found"  # no longer his to see
    wav = tmp_path / "desk" / "f7-3.wav"
    digest = make_wav(wav, 1.0)
    uploader = RecordingUploader(mrl, tmp_path / "desk" / "recordings.json", wav.parent)
    placed = {"dossier_id": did, "number": "0546000000", "callee": "Dr Y"}
    reply = await uploader.upload("f7-3@desk-mrl", wav, outgoing=True, placed=placed)
    row = placed_row(sessions, "f7-3@desk-mrl")
    assert reply["state"] == "stored" and row is not None
    assert row.dossier_id == did and row.sha256 == digest and not wav.exists()
    for client in (n1, mrl):
        await client.close()
