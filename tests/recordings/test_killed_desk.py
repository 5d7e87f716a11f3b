"""A desk killed -9 mid-upload or mid-call uploads what it has at its next start; a call
it was in is ended at the hub then, at the time its recording stopped."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.recordings import RecordingUploader
from app.db.models import Call
from app.recordings.models import Recording
from app.room import Hub
from telephony.audio.recorder import read_recording
from tests.recordings.helpers import (
    answered_call,
    logged,
    make_wav,
    mrl_holding_a_dossier,
    placed_row,
)
from tests.waits import until

ROOT = Path(__file__).resolve().parents[2]


def desk_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.recordings.killed_desk", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def recording(sessions: sessionmaker[Session], call_ref: str) -> Recording | None:
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == call_ref))
        assert call is not None
        return s.scalar(select(Recording).where(Recording.call_id == call.id))


async def test_desk_killed_mid_upload_resumes_at_next_start(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    await answered_call(n1, "kill-up@room")
    wav = tmp_path / "desk" / "big.wav"
    digest = make_wav(wav, 300.0)  # 9.6 MB: some 290 chunks
    journal = tmp_path / "desk" / "recordings.json"
    proc = desk_process("upload", rec_hub.url, str(journal), "kill-up@room", str(wav))
    recording_row_call_id = None
    try:
        assert proc.stdout is not None
        assert (await asyncio.to_thread(proc.stdout.readline)).strip() == "uploading"
        row = None

        def part_started() -> bool:
            nonlocal row
            row = recording(sessions, "kill-up@room")
            return row is not None and rec_hub_store_size(store, row.call_id) > 3 * 32768

        await until(part_started, "part of the upload stored", timeout=30)
        assert row is not None
        recording_row_call_id = row.call_id
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
    finally:
        if proc.poll() is None:
            proc.kill()
    call_id = recording_row_call_id
    assert call_id is not None
    partial = rec_hub_store_size(store, call_id)
    assert 0 < partial < wav.stat().st_size and wav.exists()

    # Next start: the journal still names the file; the upload resumes at the hub's offset.
    uploader = RecordingUploader(n1, journal, wav.parent)
    assert "kill-up@room" in uploader.journal.entries
    begun = await n1.request(
        "call.recording", call_ref="kill-up@room", size=wav.stat().st_size, sha256=digest
    )
    assert begun["received"] >= partial
    uploader.start()
    await until(lambda: "kill-up@room" in uploader.uploaded, "uploaded", timeout=30)
    await uploader.stop()
    row = recording(sessions, "kill-up@room")
    assert row is not None and row.state == "stored"
    assert hashlib.sha256((store / row.stored_name).read_bytes()).hexdigest() == digest
    assert not wav.exists() and uploader.journal.entries == {}
    await n1.close()


def rec_hub_store_size(store: Path, call_id: int | None) -> int:
    part = store / ".partial" / f"{call_id}.wav"
    return part.stat().st_size if part.exists() else 0


def utc(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def calls_in_progress(url: str, username: str) -> set[str]:
    """The calls a desk logging in now is shown in progress (its snapshot)."""
    desk = await logged(url, username)
    assert desk.snapshot is not None
    refs = {c["call_ref"] for c in desk.snapshot["calls"]}
    await desk.close()
    return refs


async def test_desk_killed_mid_call_uploads_the_recording_so_far_and_ends_the_call(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    await answered_call(n1, "kill-call@room")
    await n1.close()  # the desk process below is the one holding the call
    record_dir = tmp_path / "rec"
    journal = tmp_path / "recordings.json"
    proc = desk_process("call", rec_hub.url, str(journal), "kill-call@room", str(record_dir))
    try:
        assert proc.stdout is not None
        assert (await asyncio.to_thread(proc.stdout.readline)).strip() == "recording"
        recording_flushed = datetime.now(UTC)
        os.kill(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
        killed = datetime.now(UTC)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(record_dir.glob("*.rx.raw")) and not list(record_dir.glob("*.wav"))
    # Nobody told the hub: another N1 desk still sees the call in progress.
    assert "kill-call@room" in await calls_in_progress(rec_hub.url, "n1b")

    n1 = await logged(rec_hub.url, "n1")  # the desk starts again
    restarted = datetime.now(UTC)
    uploader = RecordingUploader(n1, journal, record_dir)
    uploader.start()
    await until(lambda: "kill-call@room" in uploader.uploaded, "uploaded", timeout=30)
    await uploader.stop()
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == "kill-call@room"))
        assert call is not None and call.ended_at is not None
    # Ended when the recording stopped (the kill), not when the desk came back.
    assert call.end_reason == "desk_crashed" and not call.abandoned
    ended = utc(call.ended_at)
    assert utc(call.answered_at) <= ended and recording_flushed.timestamp() - 1 <= ended.timestamp()
    assert ended <= killed < restarted
    assert "kill-call@room" not in await calls_in_progress(rec_hub.url, "n1b")
    assert uploader.ended == ["kill-call@room"]
    row = recording(sessions, "kill-call@room")
    assert row is not None and row.state == "stored"
    remote, desk = read_recording(store / row.stored_name)
    assert len(desk) >= 150 * 160  # the three seconds written before the kill
    for side in (remote, desk):  # both sides kept: the tone, not silence
        assert float(np.sqrt(np.mean(side[: 150 * 160].astype(float) ** 2))) > 4000
    assert not list(record_dir.iterdir())  # raw sides merged, WAV deleted once confirmed
    assert uploader.journal.entries == {}  # ended once: a next start sends nothing
    await n1.close()


async def test_desk_killed_mid_upload_of_a_call_placed_from_the_search_resumes(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1, mrl, did = await mrl_holding_a_dossier(rec_hub.url, "in-kill-f7@room")
    wav = tmp_path / "desk" / "f7.wav"
    digest = make_wav(wav, 300.0)  # 9.6 MB: some 290 chunks
    journal = tmp_path / "desk" / "recordings.json"
    proc = desk_process("placed", rec_hub.url, str(journal), "f7-kill@desk", str(wav), str(did))
    try:
        assert proc.stdout is not None
        assert (await asyncio.to_thread(proc.stdout.readline)).strip() == "uploading"

        def part_size() -> int:
            row = placed_row(sessions, "f7-kill@desk")
            part = store / ".partial" / f"out-{row.id}.wav" if row is not None else None
            return part.stat().st_size if part is not None and part.exists() else 0

        await until(lambda: part_size() > 3 * 32768, "part of the upload stored", timeout=30)
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = part_size()
    assert 0 < partial < wav.stat().st_size and wav.exists()

    # Next start: the journal names the file and the dossier; the upload resumes.
    uploader = RecordingUploader(mrl, journal, wav.parent)
    assert uploader.journal.entries["f7-kill@desk"]["placed"]["dossier_id"] == did
    begun = await mrl.request(
        "recording.placed",
        call_ref="f7-kill@desk",
        size=wav.stat().st_size,
        sha256=digest,
        dossier_id=did,
    )
    assert begun["received"] >= partial  # the hub kept what came before the kill
    uploader.start()
    await until(lambda: "f7-kill@desk" in uploader.uploaded, "uploaded", timeout=30)
    await uploader.stop()
    row = placed_row(sessions, "f7-kill@desk")
    assert row is not None and row.state == "stored" and row.dossier_id == did
    assert hashlib.sha256((store / row.stored_name).read_bytes()).hexdigest() == digest
    assert not wav.exists() and uploader.journal.entries == {}
    assert not (store / ".partial" / f"out-{row.id}.wav").exists()
    await n1.close()
    await mrl.close()


async def test_desk_killed_mid_call_placed_from_the_search_uploads_it_to_the_dossier(
    rec_hub: Hub, sessions: sessionmaker[Session], store: Path, tmp_path: Path
) -> None:
    n1, mrl, did = await mrl_holding_a_dossier(rec_hub.url, "in-kill-f7-call@room")
    await mrl.close()  # the desk process below is the MRL's, in the call
    record_dir, journal = tmp_path / "rec", tmp_path / "recordings.json"
    args = ("placed-call", rec_hub.url, str(journal), "f7-call@desk", str(record_dir), str(did))
    proc = desk_process(*args)
    try:
        assert proc.stdout is not None
        assert (await asyncio.to_thread(proc.stdout.readline)).strip() == "recording"
        os.kill(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(record_dir.glob("*.rx.raw")) and not list(record_dir.glob("*.wav"))

    mrl = await logged(rec_hub.url, "mrl")  # the desk starts again
    uploader = RecordingUploader(mrl, journal, record_dir)
    uploader.start()
    await until(lambda: "f7-call@desk" in uploader.uploaded, "uploaded", timeout=30)
    await uploader.stop()
    row = placed_row(sessions, "f7-call@desk")
    assert row is not None and row.state == "stored" and row.dossier_id == did
    assert row.placed_to == "Dr Vasseur"  # what the desk knew of the call survived the kill
    remote, desk = read_recording(store / row.stored_name)
    assert len(desk) >= 150 * 160  # the three seconds written before the kill
    assert not list(record_dir.iterdir())  # raw sides merged, WAV deleted once confirmed
    for client in (n1, mrl):
        await client.close()


async def test_a_call_ended_before_the_kill_but_not_told_is_ended_at_the_next_start(
    rec_hub: Hub, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The hub was down as the call ended, and the desk was killed before telling it:
    its finished recording is still journalled; the next start ends the call then."""
    n1 = await logged(rec_hub.url, "n1")
    await answered_call(n1, "told-late@room")
    await answered_call(n1, "told@room")
    await n1.request("call.ended", call_ref="told@room", reason="remote_hangup")
    journal = tmp_path / "recordings.json"
    uploader = RecordingUploader(n1, journal, tmp_path / "rec")
    stopped = datetime.now(UTC)
    for ref in ("told-late@room", "told@room"):
        wav = tmp_path / "rec" / f"20260302T091400_{ref.replace('@', '_')}.wav"
        make_wav(wav, 2.0)
        os.utime(wav, (stopped.timestamp(), stopped.timestamp()))
        uploader.journal.put(ref, path=str(wav), direction="in", safe=ref.replace("@", "_"))
    await n1.close()

    n1 = await logged(rec_hub.url, "n1")  # the desk starts again
    uploader = RecordingUploader(n1, journal, tmp_path / "rec")
    uploader.start()
    await until(lambda: len(uploader.uploaded) == 2, "uploaded", timeout=30)
    await uploader.stop()
    assert sorted(uploader.ended) == ["told-late@room", "told@room"]
    with sessions() as s:
        late = s.scalar(select(Call).where(Call.call_ref == "told-late@room"))
        told = s.scalar(select(Call).where(Call.call_ref == "told@room"))
        assert late is not None and told is not None
    assert late.end_reason == "desk_restarted"
    assert abs((utc(late.ended_at) - stopped).total_seconds()) < 0.01  # the WAV's last write
    assert told.end_reason == "remote_hangup"  # the hub knew: its end stays
    assert utc(told.ended_at) < stopped
    await n1.close()


async def test_an_end_told_once_is_not_told_again_at_a_later_start(
    rec_hub: Hub, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A desk killed again after ending its call, before the upload: the journal says
    the end went; the next start uploads without ending anything again."""
    n1 = await logged(rec_hub.url, "n1")
    await answered_call(n1, "told-once@room")
    journal = tmp_path / "recordings.json"
    wav = tmp_path / "rec" / "20260302T091400_told-once_room.wav"
    make_wav(wav, 1.0)
    uploader = RecordingUploader(n1, journal, tmp_path / "rec")
    uploader.journal.put("told-once@room", path=str(wav), direction="in", end_sent=True)
    uploader.start()
    await until(lambda: "told-once@room" in uploader.uploaded, "uploaded", timeout=30)
    await uploader.stop()
    assert uploader.ended == []
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == "told-once@room"))
        assert call is not None and call.ended_at is None  # still the desk's to end
    await n1.close()
