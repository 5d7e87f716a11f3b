"""Imports from the desk: the file is uploaded in chunks, then imported by the hub.

Messages are limited to 64 KiB, so a desk sends ``directory.upload`` chunks (base64,
in order) and then ``directory.import``; the desk shows the upload's progress and
the import's report. The import itself is the CLI's (one transaction: a broken file
changes nothing). Uploads are spooled (memory, then a temporary file past a few MiB:
the national RPPS zip is a few hundred MiB), per user, with size limits.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from app.directory.imports.effecteurs import import_effecteurs
from app.directory.imports.ror import import_ror
from app.directory.imports.rpps import import_rpps
from app.directory.imports.slots import import_slots
from app.directory.protocol import (
    IMPORT_INTENTS,
    DirectoryImport,
    DirectoryUpload,
    ImportedReport,
    ImportReply,
    UploadReply,
)
from app.domain.permissions import Action, require, roles_for
from app.domain.rules import FlowError
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import Intent
from app.hub.service import HubService, Outgoing, Unit
from app.hub.visibility import Audience

IMPORTERS = roles_for(Action.IMPORT_DIRECTORY)
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # the national RPPS extraction, zipped
SPOOL_BYTES = 4 * 1024 * 1024  # beyond this an upload waits on disk, not in memory
#: The import's progress goes to the desk at most this often (seconds).
PROGRESS_EVERY_S = 0.25
SUFFIXES = {
    "effecteurs": (".csv",),
    "slots": (".csv", ".ics", ".ical", ".json", ".fhir"),
    "ror": (".json", ".ndjson", ".fhir"),
    "rpps": (".zip", ".txt"),  # the ANS extraction as downloaded, or its text file
}


class Uploads:
    """Chunks received so far, per (user, upload); abandoned ones are freed.

    An upload idle for ``IDLE`` is dropped; a user holds at most
    ``MAX_PER_USER`` uploads and all of them together at most ``MAX_TOTAL_BYTES``.
    """

    IDLE = timedelta(minutes=10)
    MAX_PER_USER = 2
    MAX_TOTAL_BYTES = 2 * MAX_UPLOAD_BYTES

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[int, str], tempfile.SpooledTemporaryFile[bytes]] = {}
        self._sizes: dict[tuple[int, str], int] = {}
        self._next: dict[tuple[int, str], int] = {}
        self._touched: dict[tuple[int, str], datetime] = {}

    def _drop(self, key: tuple[int, str]) -> tempfile.SpooledTemporaryFile[bytes] | None:
        self._next.pop(key, None)
        self._touched.pop(key, None)
        self._sizes.pop(key, None)
        return self._data.pop(key, None)

    def _free_idle(self, now: datetime) -> None:
        for key, touched in list(self._touched.items()):
            if now - touched >= self.IDLE:
                spool = self._drop(key)
                if spool is not None:
                    spool.close()

    @property
    def held_bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def add(self, user_id: int, upload_id: str, seq: int, chunk: bytes, now: datetime) -> int:
        key = (user_id, upload_id)
        with self._lock:
            self._free_idle(now)
            expected = self._next.get(key, 0)
            if seq != expected:
                raise FlowError(
                    "invalid_message", f"morceau {seq} reçu, {expected} attendu : reprenez l'envoi"
                )
            if key not in self._data:
                mine = sum(1 for uid, _ in self._data if uid == user_id)
                if mine >= self.MAX_PER_USER:
                    raise FlowError(
                        "busy",
                        f"déjà {mine} fichiers en cours d'envoi : terminez-les ou attendez "
                        f"{int(self.IDLE.total_seconds() // 60)} min",
                    )
            if key not in self._data:
                self._data[key] = tempfile.SpooledTemporaryFile(
                    SPOOL_BYTES, prefix="sasdesk-upload-"
                )
                self._sizes[key] = 0
            size = self._sizes[key]
            total = sum(self._sizes.values())
            if size + len(chunk) > MAX_UPLOAD_BYTES:
                spool = self._drop(key)
                if spool is not None:
                    spool.close()
                raise FlowError(
                    "too_large", f"fichier de plus de {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo refusé"
                )
            if total + len(chunk) > self.MAX_TOTAL_BYTES:
                if not size:
                    spool = self._drop(key)
                    if spool is not None:
                        spool.close()
                raise FlowError("busy", "le hub reçoit déjà trop de fichiers : réessayez plus tard")
            self._data[key].write(chunk)
            self._sizes[key] = size + len(chunk)
            self._next[key] = seq + 1
            self._touched[key] = now
            return size + len(chunk)

    def take(
        self, user_id: int, upload_id: str, now: datetime
    ) -> tempfile.SpooledTemporaryFile[bytes]:
        """The whole upload, from its start; the caller closes it."""
        key = (user_id, upload_id)
        with self._lock:
            self._free_idle(now)
            spool = self._drop(key)
        if spool is None:
            raise FlowError("not_found", "aucun fichier envoyé sous cet identifiant")
        spool.seek(0)
        return spool


class ImportHandlers:
    def __init__(self, service: HubService):
        self.service = service
        self.uploads = Uploads()

    @staticmethod
    def _check(u: Unit) -> int:
        assert u.actor is not None
        require(u.actor.role, Action.IMPORT_DIRECTORY)
        return u.actor.user_id

    def upload(self, u: Unit, i: DirectoryUpload) -> UploadReply:
        user_id = self._check(u)
        try:
            chunk = base64.b64decode(i.data, validate=True)
        except (binascii.Error, ValueError):
            raise FlowError("invalid_message", "morceau de fichier illisible (base64)") from None
        received = self.uploads.add(user_id, i.upload_id, i.seq, chunk, u.now)
        return {"upload_id": i.upload_id, "received": received}

    def _progress(self, user_id: int, upload_id: str) -> Callable[[int, int], None] | None:
        """Tell the importing user's desks how far the import is, while it runs: the
        reply comes only at its end (a national file takes a minute)."""
        live = self.service.live
        if live is None:
            return None
        last = [0.0]

        def tell(done: int, total: int) -> None:
            now = time.monotonic()
            if total <= 0 or (now - last[0] < PROGRESS_EVERY_S and done < total):
                return
            last[0] = now
            message = {"type": "progress", "upload_id": upload_id, "done": done, "total": total}
            live([Outgoing(message, Audience(roles=set(), users={user_id}))])

        return tell

    def run_import(self, u: Unit, i: DirectoryImport) -> ImportReply:
        user_id = self._check(u)
        suffix = Path(i.filename).suffix.lower()
        if suffix not in SUFFIXES[i.kind]:
            raise FlowError(
                "invalid_message",
                f"format « {suffix or '?'} » non pris en charge "
                f"pour {i.kind} ({', '.join(SUFFIXES[i.kind])})",
            )
        with (
            self.uploads.take(user_id, i.upload_id, u.now) as spool,
            tempfile.TemporaryDirectory(prefix="sasdesk-import-") as tmp,
        ):
            path = Path(tmp) / Path(i.filename).name
            with path.open("wb") as target:
                shutil.copyfileobj(spool, target, 1 << 20)
            # The import has its own all-or-nothing transaction (the CLI's code path).
            progress = self._progress(user_id, i.upload_id)
            sessions = self.service.sessions
            if i.kind == "effecteurs":
                report = import_effecteurs(
                    sessions, path, strict=i.strict, now=u.now, progress=progress
                )
            elif i.kind == "ror":
                report = import_ror(sessions, path, strict=i.strict)
            elif i.kind == "rpps":
                report = import_rpps(sessions, path, strict=i.strict, now=u.now, progress=progress)
            else:
                report = import_slots(
                    sessions, path, rpps=i.rpps, now=u.now, strict=i.strict, progress=progress
                )
        out: ImportedReport = {
            **report.to_dict(),
            "source": i.filename,
            "summary": report.summary(),
        }
        u.emit(
            EventName.DIRECTORY_IMPORTED,
            Audience(roles=set(IMPORTERS)),
            kind=i.kind,
            filename=i.filename,
            accepted=report.accepted,
            rejected=len(report.rejected),
            committed=report.committed,
        )
        # Searching desks refresh their panels as after a booking.
        u.emit(
            EventName.AGENDA_CHANGED,
            Audience(roles=set(roles_for(Action.SEARCH_SLOTS))),
            action="imported",
        )
        return {"report": out}


class DeskImportExtension(Extension):
    """Directory files uploaded and imported from a desk."""

    name = "app.directory.desk_import"
    protocol = IMPORT_INTENTS

    def __init__(self, service: HubService):
        self.imports = ImportHandlers(service)

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {DirectoryUpload: self.imports.upload, DirectoryImport: self.imports.run_import}


def install(service: HubService) -> DeskImportExtension:
    """Desk imports on a bare service (tools and tests)."""
    return install_one(service, DeskImportExtension(service))
