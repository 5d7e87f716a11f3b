"""The desk's side of recordings: upload each answered call's WAV to the hub, play one back.

Every call this desk answers, and every outgoing call it makes that is answered (the
OSNP's call-backs), is written to a journal (``recordings.json`` in the desk's data
directory) before its recording exists; the journal entry goes only once the hub has
confirmed the file's SHA-256, and only then is the local WAV deleted. A desk killed
mid-call left the call's raw sides on disk: at the next start they are merged into the
WAV and uploaded; a desk killed mid-upload resumes at the offset the hub reports.

A call placed from the slot search (F7) is told to the uploader by the desk as it is
dialled (``note_placed``: the dossier in hand, the number, the doctor); the journal
keeps that with the call, so the recording goes up as ``recording.placed``, linked to
that dossier, even after a crash.

The hub takes a call-back call's recording once the OSNP has noted the call
(``callback.attempt`` with its ref): until then the upload waits, and the attempt's
event wakes it. The call-back panel announces its calls too (``attempt_first``): a
call still not noted after ``ATTEMPT_GRACE`` (the OSNP closed the task without noting
it, her desk crashed) goes up as a call placed about the task's dossier rather than
staying on the desk. A hub that is slow or gone is tried again with a growing delay (and
at each reconnection); a refusal is tried again a few times (the call may not be
known yet), then the file is kept aside on disk, never deleted, and tried again at
the desk's next start.

A desk killed during an incoming call never told the hub the call ended: recovering
its raw sides, the journal marks the call (``end_call``: the raw files' last write, when
the recording stopped) before merging them, and once the hub is there, before any
upload, the desk ends the call (``call.ended``, reason ``desk_crashed``, at that time).
A call that ended before the kill, its recording finished, may not have been told to
the hub either (the hub was down, the intent still on its way): it is ended the same way
at the WAV's last write (reason ``desk_restarted``; a no-op if the hub knew). The mark
goes once the hub has answered, so the call is ended once even if the desk crashes
again; a call the hub no longer knows or has ended meanwhile needs nothing more.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from app.callback.protocol import AttemptData
from app.client.hub_client import HubClient, HubError, LinkState
from app.flow.protocol import CallEnded
from app.hub.events import EventName
from app.hub.payloads import EventMessage, as_reply, event_data
from app.recordings.protocol import (
    CallRecording,
    OutgoingRecording,
    RecordingChunk,
    RecordingCommit,
    RecordingList,
    RecordingListReply,
    RecordingOpen,
    RecordingOpenReply,
    RecordingPlaced,
    RecordingRead,
    RecordingReadReply,
    RecordingRow,
    RecordingView,
    UploadState,
    file_sha256,
)

log = logging.getLogger(__name__)
CHUNK_BYTES = 32 * 1024
RETRYABLE = frozenset({"disconnected", "timeout", "internal", "unreachable"})
REFUSALS_BEFORE_GIVING_UP = 10
RETRY_AFTER_REFUSAL = 2.0  # seconds, doubled at each refusal (2, 4 … 60: ~6 min in all)
RETRY_MAX = 60.0
#: A hub that did not answer in time (or failed): tried again after this, doubling.
RETRY_AFTER_TRANSPORT = 1.0
#: An outgoing call not yet noted by the OSNP: its attempt's event wakes the upload;
#: without it (missed while disconnected) it is tried again this often.
WAIT_FOR_ATTEMPT = 60.0
#: A call-back call not noted after this long (seconds, counted across restarts) is
#: uploaded linked to its dossier without its attempt.
ATTEMPT_GRACE = 30 * 60.0
#: What ``recording.placed`` takes from the journal's ``placed`` entry.
PLACED_FIELDS = ("dossier_id", "number", "callee", "answered_at")
#: A busy hub is waited for rather than sent the same chunk again.
REQUEST_TIMEOUT = 60.0
#: ``call.ended`` reason of an incoming call its desk was killed during.
CRASH_REASON = "desk_crashed"
#: … and of one that ended before the desk was killed, told again at its next start.
RESTART_REASON = "desk_restarted"


def safe_name(call_ref: str) -> str:
    """The call's part of the recorder's file name (telephony.audio.recorder)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", call_ref)[:60]


def recording_stopped(wav: Path) -> datetime:
    """When a call's raw sides were last written: the end of what was recorded."""
    sides = [wav.with_suffix(s) for s in (".rx.raw", ".tx.raw")]
    return datetime.fromtimestamp(max(p.stat().st_mtime for p in sides if p.exists()), UTC)


class UploadJournal:
    """Calls whose recording the hub has not confirmed yet: ``{call_ref: entry}``."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, OSError) as exc:
                log.error("recordings journal %s unreadable (%s); kept aside", path, exc)
                path.rename(path.with_suffix(".corrupt"))

    def put(self, call_ref: str, **fields: Any) -> None:
        self.entries.setdefault(call_ref, {}).update(fields)
        self.save()

    def drop(self, call_ref: str) -> None:
        if self.entries.pop(call_ref, None) is not None:
            self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries), encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: the old journal or the new one


class RecordingUploader:
    """Feeds the hub with this desk's recordings; runs on the client's loop."""

    def __init__(
        self,
        client: HubClient,
        journal: Path,
        record_dir: Path | None,
        attempt_grace: float = ATTEMPT_GRACE,
    ):
        self.client = client
        self.attempt_grace = attempt_grace
        self.journal = UploadJournal(journal)
        self.record_dir = record_dir
        self.uploaded: list[str] = []  # call refs confirmed by the hub (this run)
        self.ended: list[str] = []  # calls a crash interrupted, ended at the hub (this run)
        self._incoming: set[str] = set()
        self._outgoing: set[str] = set()
        #: Calls placed from the slot search: what the hub links their recording to.
        self._placed: dict[str, dict[str, Any]] = {}
        self._not_before: dict[str, float] = {}  # call ref -> loop time of its next try
        self._transport_delay = RETRY_AFTER_TRANSPORT
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        client.on_state.append(self._on_state)
        client.on_event.append(self._on_event)

    # -- wiring ---------------------------------------------------------------------

    def start(self) -> None:
        """Recover what a previous run left, then upload whenever the hub is there."""
        self._loop = asyncio.get_running_loop()
        self.recover()
        self._task = self._loop.create_task(self._run(), name="recordings-upload")
        self._wanted.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def attach(self, line: Any) -> None:
        """Listen to a phone line (its callbacks come on any thread)."""
        loop = asyncio.get_running_loop()
        line.subscribe(lambda event: loop.call_soon_threadsafe(self.on_line_event, event))

    def note_placed(
        self,
        call_ref: str,
        *,
        dossier_id: int | None,
        number: str,
        callee: str,
        attempt_first: bool = False,
    ) -> None:
        """The desk dialled ``call_ref`` about ``dossier_id``: from the slot search, or
        from the call-back panel (``attempt_first``: the OSNP's attempt should note it)."""
        placed: dict[str, Any] = {"dossier_id": dossier_id, "number": number, "callee": callee}
        if attempt_first:
            placed["attempt_first"] = True
        self._placed[call_ref] = placed
        if call_ref in self.journal.entries:  # answered already (a very quick pick-up)
            self.journal.put(call_ref, placed=placed)

    def on_line_event(self, event: Any) -> None:
        kind = str(event.kind)
        if kind == "ringing":
            self._incoming.add(event.call_id)
        elif kind == "dialing":
            self._outgoing.add(event.call_id)
        elif kind == "answered" and self.record_dir:
            if event.call_id in self._incoming:
                direction = "in"
            elif event.call_id in self._outgoing:
                direction = "out"
            else:
                return
            # Journalled before the first byte is recorded: a crash cannot lose the call.
            self.journal.put(
                event.call_id,
                dir=str(self.record_dir),
                safe=safe_name(event.call_id),
                path=None,
                direction=direction,
                answered_at=datetime.fromtimestamp(event.at, UTC).isoformat(),
            )
            placed = self._placed.get(event.call_id)
            if placed is not None:
                self.journal.put(event.call_id, placed=placed)
        elif kind == "recording" and event.call_id in self.journal.entries and event.path:
            self.journal.put(event.call_id, path=event.path)
            self._wanted.set()
        elif kind == "ended":
            self._incoming.discard(event.call_id)
            self._outgoing.discard(event.call_id)
            self._placed.pop(event.call_id, None)

    def _on_state(self, state: LinkState, _detail: str) -> None:
        if state is LinkState.READY:
            self._not_before = {
                ref: at for ref, at in self._not_before.items() if ref in self._waiting()
            }
            self._transport_delay = RETRY_AFTER_TRANSPORT
            self._wanted.set()

    def _on_event(self, msg: dict[str, Any]) -> None:
        """The OSNP noted an outgoing call: its recording can go up now."""
        event = cast(EventMessage, msg)
        if event["event"] != EventName.CALLBACK_ATTEMPT:
            return
        ref = event_data(event, AttemptData)["call_ref"]
        if ref is not None and ref in self.journal.entries:
            self._not_before.pop(ref, None)
            self._wanted.set()

    def _waiting(self) -> set[str]:
        return {ref for ref, e in self.journal.entries.items() if e.get("waiting")}

    def _hold(self, call_ref: str, delay: float) -> None:
        """Leave this call aside for ``delay`` seconds, then look at the journal again."""
        assert self._loop is not None
        self._not_before[call_ref] = self._loop.time() + delay
        self._loop.call_later(delay, self._wanted.set)

    # -- recovery -------------------------------------------------------------------

    def recover(self) -> None:
        """Give every journalled call a WAV: the finished one, or the raw sides merged."""
        from telephony.audio.recorder import merge_raw

        for call_ref, entry in list(self.journal.entries.items()):
            path = Path(entry["path"]) if entry.get("path") else None
            if path is None:
                folder = Path(entry.get("dir") or "")
                found = sorted(folder.glob(f"*_{entry['safe']}.wav")) or [
                    raw.with_name(raw.name.removesuffix(".rx.raw") + ".wav")
                    for raw in sorted(folder.glob(f"*_{entry['safe']}.rx.raw"))
                ]
                path = found[-1] if found else None
            unended = (
                entry.get("direction") == "in"
                and "end_call" not in entry
                and not entry.get("end_sent")
            )
            if path is not None and not path.exists() and path.with_suffix(".rx.raw").exists():
                if unended:
                    # Marked before merging: a crash while merging cannot lose the end.
                    stopped = recording_stopped(path).isoformat()
                    self.journal.put(call_ref, end_call=stopped, end_reason=CRASH_REASON)
                    unended = False
                merge_raw(path)
                log.warning("recording of %s recovered after a crash: %s", call_ref, path)
            if path is None or not path.exists():
                log.error("no recording left on disk for call %s", call_ref)
                self.journal.drop(call_ref)
                continue
            if unended:
                stopped = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
                self.journal.put(call_ref, end_call=stopped, end_reason=RESTART_REASON)
            # A new start tries again what a previous run kept aside.
            for key in ("refused", "failures", "waiting"):
                entry.pop(key, None)
            self.journal.put(call_ref, path=str(path))

    # -- upload ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            if self.client.state is not LinkState.READY:
                continue
            assert self._loop is not None
            if not await self._end_interrupted_calls():
                continue  # the hub did not answer: the timer or a reconnection wakes us
            for call_ref, entry in list(self.journal.entries.items()):
                if not entry.get("path") or entry.get("refused"):
                    continue
                if self._not_before.get(call_ref, 0.0) > self._loop.time():
                    continue
                try:
                    outgoing = entry.get("direction") == "out"
                    placed = entry.get("placed")
                    if placed is not None and self._for_attempt(entry):
                        placed = None  # recording.outgoing: linked to the OSNP's attempt
                    if placed is not None:
                        placed = {**placed, "answered_at": entry.get("answered_at")}
                    await self.upload(
                        call_ref, Path(entry["path"]), outgoing=outgoing, placed=placed
                    )
                except HubError as exc:
                    if exc.code in RETRYABLE:
                        # Slow or gone: a reconnection wakes this loop, and so does the
                        # timer (a hub that answers late keeps the link READY).
                        self._loop.call_later(self._transport_delay, self._wanted.set)
                        self._transport_delay = min(RETRY_MAX, 2 * self._transport_delay)
                        break
                    self._refused(call_ref, entry, exc)
                else:
                    self._not_before.pop(call_ref, None)
                    self._transport_delay = RETRY_AFTER_TRANSPORT

    async def _end_interrupted_calls(self) -> bool:
        """End at the hub the calls a crash interrupted; False if the hub did not answer."""
        assert self._loop is not None
        for call_ref, entry in list(self.journal.entries.items()):
            stopped = entry.get("end_call")
            if not stopped:
                continue
            try:
                await self.client.call(
                    CallEnded,
                    REQUEST_TIMEOUT,
                    call_ref=call_ref,
                    reason=entry.get("end_reason") or CRASH_REASON,
                    ended_at=datetime.fromisoformat(stopped),
                )
            except HubError as exc:
                if exc.code in RETRYABLE:
                    self._loop.call_later(self._transport_delay, self._wanted.set)
                    self._transport_delay = min(RETRY_MAX, 2 * self._transport_delay)
                    return False
                if exc.code != "not_found":  # not_found: ended and gone, or never this desk's
                    log.error("call %s interrupted by a crash not ended: %s", call_ref, exc)
            else:
                log.warning("call %s interrupted by a crash ended at %s", call_ref, stopped)
                self.ended.append(call_ref)
            entry.pop("end_call", None)
            entry.pop("end_reason", None)
            self.journal.put(call_ref, end_sent=True)
        return True

    def _for_attempt(self, entry: dict[str, Any]) -> bool:
        """A call-back call still within its grace for the OSNP to note it."""
        placed = entry.get("placed") or {}
        if not placed.get("attempt_first"):
            return False
        since = entry.get("waiting_since")
        return since is None or time.time() - float(since) < self.attempt_grace

    def _refused(self, call_ref: str, entry: dict[str, Any], exc: HubError) -> None:
        outgoing = entry.get("direction") == "out"
        if outgoing and exc.code == "not_found" and "placed" not in entry:
            # The OSNP has not noted this call yet: her callback.attempt wakes it.
            self.journal.put(call_ref, waiting=exc.message)
            self._hold(call_ref, WAIT_FOR_ATTEMPT)
            return
        if outgoing and exc.code == "not_found" and self._for_attempt(entry):
            # Not noted yet: wait for the attempt, within the grace (kept across starts).
            since = float(entry.get("waiting_since") or time.time())
            self.journal.put(call_ref, waiting=exc.message, waiting_since=since)
            left = since + self.attempt_grace - time.time()
            if left <= 0:
                log.warning("call-back call %s never noted: uploaded to its dossier", call_ref)
            self._hold(call_ref, max(0.0, min(WAIT_FOR_ATTEMPT, left)))
            return
        # An incoming call may not be answered at the hub yet (the desk's own
        # call.answered still on its way after a reconnection): try again a few
        # times, further apart, before keeping the file aside, never deleting it.
        failures = int(entry.get("failures", 0)) + 1
        if failures < REFUSALS_BEFORE_GIVING_UP:
            self.journal.put(call_ref, failures=failures)
            self._hold(call_ref, min(RETRY_MAX, RETRY_AFTER_REFUSAL * 2 ** (failures - 1)))
            return
        log.error("recording of %s refused by the hub: %s", call_ref, exc)
        self.journal.put(call_ref, refused=exc.message)  # kept on disk

    async def upload(
        self,
        call_ref: str,
        path: Path,
        attempts: int = 3,
        *,
        outgoing: bool = False,
        placed: dict[str, Any] | None = None,
    ) -> UploadState:
        """Send one WAV (resuming where the hub is), have it checked, then delete it.
        ``placed``: a call placed from the slot search (its dossier, number, callee)."""
        size = path.stat().st_size
        digest = file_sha256(path)
        declare: type[CallRecording | OutgoingRecording | RecordingPlaced] = CallRecording
        extra: dict[str, Any] = {}
        if placed is not None:
            declare = RecordingPlaced
            extra = {k: placed[k] for k in PLACED_FIELDS if placed.get(k) not in (None, "")}
        elif outgoing:
            declare = OutgoingRecording
        for attempt in range(attempts):
            begun = as_reply(
                await self.client.call(
                    declare, REQUEST_TIMEOUT, call_ref=call_ref, size=size, sha256=digest, **extra
                ),
                UploadState,
            )
            if begun.get("state") != "stored":
                try:
                    await self._send_from(call_ref, path, begun.get("received", 0), size)
                except HubError as exc:
                    if exc.code == "invalid_state" and attempt + 1 < attempts:
                        continue  # out of step with the hub: ask it where it is again
                    raise
                try:
                    begun = as_reply(
                        await self.client.call(RecordingCommit, REQUEST_TIMEOUT, call_ref=call_ref),
                        UploadState,
                    )
                except HubError as exc:
                    if exc.code == "hash_mismatch" and attempt + 1 < attempts:
                        log.warning("recording of %s damaged on the way; sent again", call_ref)
                        continue
                    raise
            if begun.get("sha256") != digest:
                raise HubError("hash_mismatch", "le hub conserve un autre fichier pour cet appel")
            path.unlink(missing_ok=True)  # the hub has it, hash checked
            self.journal.drop(call_ref)
            self.uploaded.append(call_ref)
            return begun
        raise AssertionError("unreachable")

    async def _send_from(self, call_ref: str, path: Path, offset: int, size: int) -> None:
        with path.open("rb") as f:
            f.seek(offset)
            while offset < size:
                data = f.read(CHUNK_BYTES)
                reply = await self.client.call(
                    RecordingChunk,
                    REQUEST_TIMEOUT,
                    call_ref=call_ref,
                    offset=offset,
                    data=base64.b64encode(data).decode("ascii"),
                )
                offset = as_reply(reply, UploadState).get("received", offset)
                f.seek(offset)


async def list_recordings(client: HubClient, dossier_id: int) -> list[RecordingRow]:
    """The dossier's recordings (app.recordings.listing), oldest call first."""
    reply = await client.call(RecordingList, dossier_id=dossier_id)
    return as_reply(reply, RecordingListReply)["recordings"]


async def fetch_recording(
    client: HubClient, dossier_id: int, dest: Path, recording_id: int | None = None
) -> RecordingView:
    """Stream one of a dossier's recordings (none named: the incoming call's) from the hub
    into ``dest``; checks its SHA-256."""
    chosen = {"recording_id": recording_id} if recording_id is not None else {}
    opened = await client.call(RecordingOpen, dossier_id=dossier_id, **chosen)
    meta = as_reply(opened, RecordingOpenReply)["recording"]
    chosen = {"recording_id": meta["id"]}  # the one opened, whatever comes in between
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = 0
    with dest.open("wb") as f:
        while True:
            read = as_reply(
                await client.call(RecordingRead, dossier_id=dossier_id, offset=offset, **chosen),
                RecordingReadReply,
            )
            data = base64.b64decode(read["data"])
            f.write(data)
            offset += len(data)
            if read["eof"] or not data:
                break
    if file_sha256(dest) != meta["sha256"]:
        dest.unlink(missing_ok=True)
        raise HubError("hash_mismatch", "l'enregistrement reçu est altéré : réessayez")
    return meta
