"""The desk's side of recordings: upload each answered call's WAV to the hub, play one back.

Every incoming call this desk answers is written to a journal (``recordings.json`` in
the desk's data directory) before its recording exists; the journal entry goes only
once the hub has confirmed the file's SHA-256, and only then is the local WAV deleted.
A desk killed mid-call left the call's raw sides on disk: at the next start they are
merged into the WAV and uploaded; a desk killed mid-upload resumes at the offset the
hub reports. Outgoing calls (call-backs) are not the hub's calls and stay local.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from app.client.hub_client import HubClient, HubError, LinkState
from app.recordings.hub import (
    CallRecording,
    RecordingChunk,
    RecordingCommit,
    RecordingOpen,
    RecordingRead,
)
from app.recordings.store import file_sha256

log = logging.getLogger(__name__)
CHUNK_BYTES = 32 * 1024
RETRYABLE = frozenset({"disconnected", "timeout", "internal", "unreachable"})
REFUSALS_BEFORE_GIVING_UP = 5
RETRY_AFTER_REFUSAL = 2.0  # seconds
#: A busy hub is waited for rather than sent the same chunk again.
REQUEST_TIMEOUT = 60.0


def safe_name(call_ref: str) -> str:
    """The call's part of the recorder's file name (telephony.audio.recorder)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", call_ref)[:60]


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

    def __init__(self, client: HubClient, journal: Path, record_dir: Path | None):
        self.client = client
        self.journal = UploadJournal(journal)
        self.record_dir = record_dir
        self.uploaded: list[str] = []  # call refs confirmed by the hub (this run)
        self._incoming: set[str] = set()
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        client.on_state.append(self._on_state)

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

    def on_line_event(self, event: Any) -> None:
        kind = str(event.kind)
        if kind == "ringing":
            self._incoming.add(event.call_id)
        elif kind == "answered" and event.call_id in self._incoming and self.record_dir:
            # Journalled before the first byte is recorded: a crash cannot lose the call.
            self.journal.put(
                event.call_id, dir=str(self.record_dir), safe=safe_name(event.call_id), path=None
            )
        elif kind == "recording" and event.call_id in self.journal.entries and event.path:
            self.journal.put(event.call_id, path=event.path)
            self._wanted.set()
        elif kind == "ended":
            self._incoming.discard(event.call_id)

    def _on_state(self, state: LinkState, _detail: str) -> None:
        if state is LinkState.READY:
            self._wanted.set()

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
            if path is not None and not path.exists() and path.with_suffix(".rx.raw").exists():
                merge_raw(path)
                log.warning("recording of %s recovered after a crash: %s", call_ref, path)
            if path is None or not path.exists():
                log.error("no recording left on disk for call %s", call_ref)
                self.journal.drop(call_ref)
                continue
            self.journal.put(call_ref, path=str(path))

    # -- upload ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            if self.client.state is not LinkState.READY:
                continue
            for call_ref, entry in list(self.journal.entries.items()):
                if not entry.get("path") or entry.get("refused"):
                    continue
                try:
                    await self.upload(call_ref, Path(entry["path"]))
                except HubError as exc:
                    if exc.code in RETRYABLE:
                        break  # the hub is back later: READY sets the flag again
                    # The call may not be answered at the hub yet (the desk's own
                    # call.answered still on its way after a reconnection): try again
                    # a few times before keeping the file aside, never deleting it.
                    failures = int(entry.get("failures", 0)) + 1
                    if failures < REFUSALS_BEFORE_GIVING_UP:
                        self.journal.put(call_ref, failures=failures)
                        assert self._loop is not None
                        self._loop.call_later(RETRY_AFTER_REFUSAL, self._wanted.set)
                        continue
                    log.error("recording of %s refused by the hub: %s", call_ref, exc)
                    self.journal.put(call_ref, refused=exc.message)  # kept on disk

    async def upload(self, call_ref: str, path: Path, attempts: int = 3) -> dict[str, Any]:
        """Send one WAV (resuming where the hub is), have it checked, then delete it."""
        size = path.stat().st_size
        digest = file_sha256(path)
        for attempt in range(attempts):
            begun = await self.client.call(
                CallRecording, REQUEST_TIMEOUT, call_ref=call_ref, size=size, sha256=digest
            )
            if begun["state"] != "stored":
                try:
                    await self._send_from(call_ref, path, int(begun["received"]), size)
                except HubError as exc:
                    if exc.code == "invalid_state" and attempt + 1 < attempts:
                        continue  # out of step with the hub: ask it where it is again
                    raise
                try:
                    begun = await self.client.call(
                        RecordingCommit, REQUEST_TIMEOUT, call_ref=call_ref
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
                offset = int(reply["received"])
                f.seek(offset)


async def fetch_recording(client: HubClient, dossier_id: int, dest: Path) -> dict[str, Any]:
    """Stream a dossier's recording from the hub into ``dest``; checks its SHA-256."""
    opened = await client.call(RecordingOpen, dossier_id=dossier_id)
    meta: dict[str, Any] = opened["recording"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = 0
    with dest.open("wb") as f:
        while True:
            reply = await client.call(RecordingRead, dossier_id=dossier_id, offset=offset)
            data = base64.b64decode(reply["data"])
            f.write(data)
            offset += len(data)
            if reply["eof"] or not data:
                break
    if file_sha256(dest) != meta["sha256"]:
        dest.unlink(missing_ok=True)
        raise HubError("hash_mismatch", "l'enregistrement reçu est altéré : réessayez")
    return meta
