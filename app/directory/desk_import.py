"""Imports from the desk: the file is uploaded in chunks, then imported by the hub.

Messages are limited to 64 KiB, so a desk sends ``directory.upload`` chunks (base64,
in order) and then ``directory.import``; the desk shows the upload's progress and
the import's report. The import itself is the CLI's (one transaction: a broken file
changes nothing). Uploads are kept in memory, per user, with a size limit.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.directory.imports.effecteurs import import_effecteurs
from app.directory.imports.rpps import import_rpps
from app.directory.imports.slots import import_slots
from app.domain.permissions import Action, require, roles_for
from app.domain.rules import FlowError
from app.hub.events import EventName
from app.hub.protocol import Intent, IntentName
from app.hub.service import FlowService, Unit
from app.hub.visibility import Audience

IMPORTERS = roles_for(Action.IMPORT_DIRECTORY)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CHUNK_BYTES = 32 * 1024  # raw bytes per chunk: base64 keeps the message under 64 KiB
SUFFIXES = {
    "effecteurs": (".csv",),
    "slots": (".csv", ".ics", ".ical", ".json", ".fhir"),
    "rpps": (".zip", ".txt"),  # the ANS extraction as downloaded, or its text file
}

UploadId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class DirectoryUpload(Intent):
    type: Literal[IntentName.DIRECTORY_UPLOAD] = IntentName.DIRECTORY_UPLOAD
    upload_id: UploadId
    seq: Annotated[int, Field(ge=0, lt=10_000)]
    data: Annotated[str, StringConstraints(max_length=48 * 1024)]  # base64


class DirectoryImport(Intent):
    type: Literal[IntentName.DIRECTORY_IMPORT] = IntentName.DIRECTORY_IMPORT
    upload_id: UploadId
    kind: Literal["effecteurs", "slots", "rpps"]
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    rpps: Annotated[str, StringConstraints(pattern=r"^\d{11}$")] | None = None
    strict: bool = False


class Uploads:
    """Chunks received so far, per (user, upload); abandoned ones are freed.

    An upload idle for ``IDLE`` is dropped; a user holds at most
    ``MAX_PER_USER`` uploads and all of them together at most ``MAX_TOTAL_BYTES``.
    """

    IDLE = timedelta(minutes=10)
    MAX_PER_USER = 2
    MAX_TOTAL_BYTES = 4 * MAX_UPLOAD_BYTES

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[int, str], bytearray] = {}
        self._next: dict[tuple[int, str], int] = {}
        self._touched: dict[tuple[int, str], datetime] = {}

    def _drop(self, key: tuple[int, str]) -> bytearray | None:
        self._next.pop(key, None)
        self._touched.pop(key, None)
        return self._data.pop(key, None)

    def _free_idle(self, now: datetime) -> None:
        for key, touched in list(self._touched.items()):
            if now - touched >= self.IDLE:
                self._drop(key)

    @property
    def held_bytes(self) -> int:
        with self._lock:
            return sum(len(b) for b in self._data.values())

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
            buffer = self._data.setdefault(key, bytearray())
            total = sum(len(b) for b in self._data.values())
            if len(buffer) + len(chunk) > MAX_UPLOAD_BYTES:
                self._drop(key)
                raise FlowError(
                    "too_large", f"fichier de plus de {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo refusé"
                )
            if total + len(chunk) > self.MAX_TOTAL_BYTES:
                if not buffer:
                    self._drop(key)
                raise FlowError("busy", "le hub reçoit déjà trop de fichiers : réessayez plus tard")
            buffer.extend(chunk)
            self._next[key] = seq + 1
            self._touched[key] = now
            return len(buffer)

    def take(self, user_id: int, upload_id: str, now: datetime) -> bytes:
        key = (user_id, upload_id)
        with self._lock:
            self._free_idle(now)
            data = self._drop(key)
        if data is None:
            raise FlowError("not_found", "aucun fichier envoyé sous cet identifiant")
        return bytes(data)


class ImportHandlers:
    def __init__(self, service: FlowService):
        self.service = service
        self.uploads = Uploads()

    @staticmethod
    def _check(u: Unit) -> int:
        assert u.actor is not None
        require(u.actor.role, Action.IMPORT_DIRECTORY)
        return u.actor.user_id

    def upload(self, u: Unit, i: DirectoryUpload) -> dict[str, Any]:
        user_id = self._check(u)
        try:
            chunk = base64.b64decode(i.data, validate=True)
        except (binascii.Error, ValueError):
            raise FlowError("invalid_message", "morceau de fichier illisible (base64)") from None
        received = self.uploads.add(user_id, i.upload_id, i.seq, chunk, u.now)
        return {"upload_id": i.upload_id, "received": received}

    def run_import(self, u: Unit, i: DirectoryImport) -> dict[str, Any]:
        user_id = self._check(u)
        suffix = Path(i.filename).suffix.lower()
        if suffix not in SUFFIXES[i.kind]:
            raise FlowError(
                "invalid_message",
                f"format « {suffix or '?'} » non pris en charge "
                f"pour {i.kind} ({', '.join(SUFFIXES[i.kind])})",
            )
        data = self.uploads.take(user_id, i.upload_id, u.now)
        with tempfile.TemporaryDirectory(prefix="sasdesk-import-") as tmp:
            path = Path(tmp) / Path(i.filename).name
            path.write_bytes(data)
            # The import has its own all-or-nothing transaction (the CLI's code path).
            if i.kind == "effecteurs":
                report = import_effecteurs(self.service.sessions, path, strict=i.strict, now=u.now)
            elif i.kind == "rpps":
                report = import_rpps(self.service.sessions, path, strict=i.strict, now=u.now)
            else:
                report = import_slots(
                    self.service.sessions, path, rpps=i.rpps, now=u.now, strict=i.strict
                )
        out = report.to_dict()
        out["source"] = i.filename
        out["summary"] = report.summary()
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


def install(service: FlowService) -> ImportHandlers:
    handlers = ImportHandlers(service)
    service.register(DirectoryUpload, handlers.upload)
    service.register(DirectoryImport, handlers.run_import)
    return handlers
