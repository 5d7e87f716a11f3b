"""The OSNP's outgoing call-back calls are recorded centrally: the desk uploads the WAV
(chunked, SHA-256 checked) once the call is noted, the hub links it to the attempt and
the dossier, the local copy goes only then; nobody else may upload it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.callback.models import CallbackAttempt
from app.client.hub_client import HubError
from app.client.recordings import RecordingUploader, fetch_recording
from app.config.settings import HubSettings
from app.db.models import Event, OsnpTask
from app.hub.auth import Principal
from app.recordings.models import Recording
from app.room import Hub
from telephony.line import LineEvent, LineEventKind
from tests.callback.conftest import NOW, Desks, FakeClock, Territory, osnp_task, plan, target
from tests.flow.flow_helpers import Actor
from tests.recordings.helpers import logged, make_wav


class FakeLine:
    """The line's events, as the SIP line gives them to its listeners."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[LineEvent], None]] = []

    def subscribe(self, listener: Callable[[LineEvent], None]) -> None:
        self.listeners.append(listener)

    def emit(
        self, kind: LineEventKind, call_id: str, number: str = "", reason: str = "", path: str = ""
    ) -> None:
        event = LineEvent(kind, call_id=call_id, number=number, reason=reason, path=path)
        for listener in self.listeners:
            listener(event)


@pytest.fixture
async def hub(
    db_url: str, sessions: sessionmaker[Session], territory: Territory, tmp_path: Path
) -> AsyncIterator[Hub]:
    hub = Hub(
        db_url,
        "127.0.0.1",
        0,
        clock=FakeClock(NOW),
        settings=HubSettings(recordings_store=tmp_path / "store"),
    )
    await hub.start()
    yield hub
    await hub.stop()


async def until(cond: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_a_call_back_recording_goes_to_the_hub_once_the_call_is_noted(
    hub: Hub,
    people: dict[str, Principal],
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    desks = Desks(*(Actor(hub.service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))
    task_id = osnp_task(desks, "Dr Claire Vasseur")
    mt = target(plan(desks, task_id), "MT")
    osnp = await logged(hub.url, "osnp")
    record_dir = tmp_path / "desk" / "rec"
    uploader = RecordingUploader(osnp, tmp_path / "desk" / "recordings.json", record_dir)
    line = FakeLine()
    uploader.attach(line)
    uploader.start()

    # The OSNP calls the treating doctor; the call is answered, then hung up. The panel
    # announces it (task's dossier, doctor) in case it is never noted.
    ref = "out-7@room"
    with sessions() as s:
        task_row = s.get(OsnpTask, task_id)
        assert task_row is not None
        task_dossier = task_row.dossier_id
    line.emit(LineEventKind.DIALING, ref, number="0600000000")
    uploader.note_placed(
        ref, dossier_id=task_dossier, number="0600000000", callee="MT", attempt_first=True
    )
    line.emit(LineEventKind.ANSWERED, ref)
    wav = record_dir / "20261123T100000_out-7_room.wav"
    digest = make_wav(wav, 3.0)  # 96 kB: three chunks
    line.emit(LineEventKind.ENDED, ref, reason="local_hangup")
    line.emit(LineEventKind.RECORDING, ref, path=str(wav))
    # Not noted yet: the hub does not know the call; the desk waits, keeping the file.
    await until(lambda: uploader.journal.entries.get(ref, {}).get("waiting"))
    assert wav.exists() and not uploader.uploaded

    # The OSNP notes the call: its event wakes the upload.
    at = (NOW + timedelta(hours=2)).isoformat()
    await osnp.request(
        "callback.attempt",
        target_id=mt["id"],
        result="CALL_BACK",
        call_back_at=at,
        number="0600000000",
        call_ref=ref,
        duration_seconds=3.0,
    )
    await until(lambda: ref in uploader.uploaded)  # the attempt's event woke the upload
    assert not wav.exists()  # deleted only once the hub confirmed the hash
    assert ref not in uploader.journal.entries
    with sessions() as s:
        attempt = s.scalar(select(CallbackAttempt).where(CallbackAttempt.call_ref == ref))
        assert attempt is not None
        row = s.scalar(select(Recording).where(Recording.attempt_id == attempt.id))
        task = s.get(OsnpTask, task_id)
        assert row is not None and task is not None
        assert row.state == "stored" and row.call_id is None
        assert row.dossier_id == task.dossier_id and row.sha256 == digest
        assert attempt.recording_path == row.stored_name  # a name in the store, not a path
        kept = tmp_path / "store" / row.stored_name
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest
        event = s.scalar(select(Event).where(Event.type == "call.recorded"))
        assert event is not None and event.task_id == task_id
        assert event.data["attempt_id"] == attempt.id
        dossier_id = task.dossier_id

    # Another OSNP cannot upload a recording of it.
    other = await logged(hub.url, "osnp2")
    size = row.size
    with pytest.raises(HubError) as refused:
        await other.request("recording.outgoing", call_ref=ref, size=size, sha256=digest)
    assert refused.value.code == "forbidden"
    with pytest.raises(HubError) as refused:
        await other.request("recording.commit", call_ref=ref)
    assert refused.value.code == "forbidden"
    n1 = await logged(hub.url, "n1")  # an ARM: no such incoming call, and no call-backs
    with pytest.raises(HubError) as unknown:
        await n1.request("call.recording", call_ref=ref, size=size, sha256=digest)
    assert unknown.value.code == "not_found"
    with pytest.raises(HubError) as refused:
        await n1.request("recording.outgoing", call_ref=ref, size=size, sha256=digest)
    assert refused.value.code == "forbidden"

    # The supervisor plays it from the hub (the dossier's only stored recording).
    sup = await logged(hub.url, "sup")
    meta = await fetch_recording(sup, dossier_id, tmp_path / "played.wav")
    assert meta["sha256"] == digest and meta["attempt_id"] is not None
    await uploader.stop()
    for client in (osnp, other, n1, sup):
        await client.close()


async def test_a_call_back_call_never_noted_goes_to_the_dossier_after_the_grace(
    hub: Hub,
    people: dict[str, Principal],
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """The OSNP phoned, then closed her search without noting the call (or her desk
    crashed): the recording does not stay on the desk, it goes to the task's dossier."""
    desks = Desks(*(Actor(hub.service, people[n]) for n in ("n1", "mrl", "osnp", "osnp2", "sup")))
    task_id = osnp_task(desks, "Dr Claire Vasseur")
    plan(desks, task_id)
    with sessions() as s:
        task = s.get(OsnpTask, task_id)
        assert task is not None
        dossier_id = task.dossier_id
    osnp = await logged(hub.url, "osnp")
    record_dir = tmp_path / "desk" / "rec"
    journal = tmp_path / "desk" / "recordings.json"
    uploader = RecordingUploader(osnp, journal, record_dir, attempt_grace=1.0)
    line = FakeLine()
    uploader.attach(line)
    uploader.start()
    ref = "out-8@room"
    line.emit(LineEventKind.DIALING, ref, number="0600000001")
    uploader.note_placed(
        ref, dossier_id=dossier_id, number="0600000001", callee="Dr Vasseur", attempt_first=True
    )
    line.emit(LineEventKind.ANSWERED, ref)
    wav = record_dir / "20261123T100500_out-8_room.wav"
    digest = make_wav(wav, 1.0)
    line.emit(LineEventKind.ENDED, ref, reason="local_hangup")
    line.emit(LineEventKind.RECORDING, ref, path=str(wav))
    # First it waits for the attempt (the file kept)…
    await until(lambda: uploader.journal.entries.get(ref, {}).get("waiting_since"))
    assert wav.exists() and not uploader.uploaded
    # …then, never noted, it goes up linked to the dossier.
    await until(lambda: ref in uploader.uploaded)
    assert not wav.exists() and ref not in uploader.journal.entries
    with sessions() as s:
        row = s.scalar(select(Recording).where(Recording.placed_ref == ref))
        assert row is not None and row.state == "stored" and row.sha256 == digest
        assert row.dossier_id == dossier_id and row.attempt_id is None
        assert (row.placed_number, row.placed_to) == ("0600000001", "Dr Vasseur")
    await uploader.stop()
    await osnp.close()
