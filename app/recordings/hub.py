"""Recordings kept by the hub: upload (chunked, resumable, SHA-256 checked) and playback.

Installed by ``app.hub.extensions``. The desk that answered a call declares its WAV
(``call.recording``: size and SHA-256, never a path), sends it in chunks at the offset
the hub says it has (``recording.chunk``), then asks the hub to check and keep it
(``recording.commit``). Doctors and supervisors open a dossier's recording
(``recording.open``, written in the dossier's log: who listened, when) and read it in
chunks (``recording.read``, beside the single writer). See docs/protocol.md.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints
from sqlalchemy import select

from app.audit import record_read, record_read_once, refused_read
from app.db.models import Call, Dossier
from app.domain.permissions import Action, refusal, require, roles_for
from app.domain.rules import FlowError, forbid
from app.hub.events import EventName
from app.hub.protocol import EntityId, Intent, IntentName
from app.hub.service import FlowService, Unit
from app.hub.views import call_view, iso
from app.hub.visibility import Audience, calls_audience, can_see_dossier
from app.recordings.models import Recording
from app.recordings.store import MAX_RECORDING_BYTES, RecordingStore, default_store, file_sha256

#: Raw bytes per uploaded chunk: base64 keeps the message under the 64 KiB intent limit.
CHUNK_BYTES = 32 * 1024
#: Raw bytes per playback chunk (replies are not bound by the intents' limit).
READ_BYTES = 256 * 1024
#: Who plays a dossier's recording from the desk.
LISTENERS = roles_for(Action.LISTEN_RECORDINGS)

CallRef = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Offset = Annotated[int, Field(ge=0, le=MAX_RECORDING_BYTES)]


class CallRecording(Intent):
    """The WAV of a call this desk answered is complete: declare it, learn the offset."""

    type: Literal[IntentName.CALL_RECORDING] = IntentName.CALL_RECORDING
    call_ref: CallRef
    size: Annotated[int, Field(gt=44, le=MAX_RECORDING_BYTES)]  # a WAV header and more
    sha256: Sha256


class RecordingChunk(Intent):
    type: Literal[IntentName.RECORDING_CHUNK] = IntentName.RECORDING_CHUNK
    call_ref: CallRef
    offset: Offset
    data: Annotated[str, StringConstraints(min_length=1, max_length=48 * 1024)]  # base64
    read_only: ClassVar[bool] = True  # file work beside the writer; no row changes


class RecordingCommit(Intent):
    type: Literal[IntentName.RECORDING_COMMIT] = IntentName.RECORDING_COMMIT
    call_ref: CallRef


class RecordingOpen(Intent):
    type: Literal[IntentName.RECORDING_OPEN] = IntentName.RECORDING_OPEN
    dossier_id: EntityId


class RecordingRead(Intent):
    type: Literal[IntentName.RECORDING_READ] = IntentName.RECORDING_READ
    dossier_id: EntityId
    offset: Offset = 0
    read_only: ClassVar[bool] = True


def recording_view(r: Recording) -> dict[str, Any]:
    return {
        "id": r.id,
        "call_id": r.call_id,
        "dossier_id": r.dossier_id,
        "size": r.size,
        "sha256": r.sha256,
        "state": r.state,
        "stored_at": iso(r.stored_at),
    }


class RecordingHandlers:
    def __init__(self, service: FlowService, store: RecordingStore | None = None):
        self.service = service
        self._store = store

    @property
    def store(self) -> RecordingStore:
        """The hub's store (from its settings at start; else beside its database)."""
        if self._store is None:
            bind = self.service.sessions.kw["bind"]
            url = bind.url.render_as_string(hide_password=False)
            self._store = RecordingStore(default_store(url))
        return self._store

    def use_store(self, root: Path) -> None:
        self._store = RecordingStore(root)

    # -- upload (the desk that answered the call) ---------------------------------------

    @staticmethod
    def _answered_call(u: Unit, call_ref: str) -> Call:
        assert u.actor is not None
        require(u.actor.role, Action.ANSWER_CALLS)
        call = u.s.scalar(select(Call).where(Call.call_ref == call_ref))
        if call is None:
            raise FlowError("not_found", f"appel {call_ref} inconnu")
        if call.answered_by_id != u.actor.user_id:
            raise forbid("seul le poste qui a pris l'appel en dépose l'enregistrement")
        return call

    @staticmethod
    def _row(u: Unit, call: Call) -> Recording | None:
        return u.s.scalar(select(Recording).where(Recording.call_id == call.id))

    def begin(self, u: Unit, i: CallRecording) -> dict[str, Any]:
        call = self._answered_call(u, i.call_ref)
        assert u.actor is not None
        row = self._row(u, call)
        if row is not None and row.state == "stored":
            if row.sha256 != i.sha256:
                raise FlowError(
                    "conflict", "un autre enregistrement est déjà conservé pour cet appel"
                )
            return {
                "call_ref": i.call_ref,
                "state": "stored",
                "received": row.size,
                "sha256": row.sha256,
            }
        if row is None:
            dossier = u.s.scalar(select(Dossier).where(Dossier.call_id == call.id))
            row = Recording(
                call_id=call.id,
                dossier_id=dossier.id if dossier else None,
                uploaded_by_id=u.actor.user_id,
                sha256=i.sha256,
                size=i.size,
                state="uploading",
                started_at=u.now,
            )
            u.s.add(row)
        elif (row.sha256, row.size) != (i.sha256, i.size):
            self.store.discard(call.id)  # another file for this call: start it again
            row.sha256, row.size = i.sha256, i.size
        received = self.store.received(call.id)
        if received > i.size:
            self.store.discard(call.id)
            received = 0
        return {
            "call_ref": i.call_ref,
            "state": "uploading",
            "received": received,
            "chunk_bytes": CHUNK_BYTES,
        }

    def chunk(self, u: Unit, i: RecordingChunk) -> dict[str, Any]:
        call = self._answered_call(u, i.call_ref)
        row = self._row(u, call)
        if row is None or row.state != "uploading":
            raise FlowError(
                "invalid_state",
                "déclarez l'enregistrement (call.recording) avant d'en envoyer les morceaux",
            )
        try:
            data = base64.b64decode(i.data, validate=True)
        except (binascii.Error, ValueError):
            raise FlowError(
                "invalid_message", "morceau d'enregistrement illisible (base64)"
            ) from None
        if i.offset + len(data) > row.size:
            raise FlowError("too_large", f"l'enregistrement déclaré fait {row.size} octets")
        with self.store.lock(call.id):
            try:
                received = self.store.append(call.id, i.offset, data)
            except ValueError as exc:
                raise FlowError(
                    "invalid_state",
                    f"morceau à l'octet {i.offset}, le hub en a "
                    f"{exc.args[0]} : reprenez à cet octet",
                ) from None
        return {"call_ref": i.call_ref, "received": received}

    def commit(self, u: Unit, i: RecordingCommit) -> dict[str, Any]:
        call = self._answered_call(u, i.call_ref)
        row = self._row(u, call)
        if row is None:
            raise FlowError("invalid_state", "aucun enregistrement déclaré pour cet appel")
        if row.state == "stored":
            return {
                "call_ref": i.call_ref,
                "state": "stored",
                "sha256": row.sha256,
                "size": row.size,
            }
        with self.store.lock(call.id):
            received = self.store.received(call.id)
            if received != row.size:
                raise FlowError(
                    "invalid_state", f"enregistrement incomplet : {received} octets sur {row.size}"
                )
            digest = file_sha256(self.store.partial(call.id))
            if digest != row.sha256:
                self.store.discard(call.id)
                raise FlowError(
                    "hash_mismatch",
                    "l'enregistrement reçu ne correspond pas à "
                    "son empreinte SHA-256 : renvoyez-le en entier",
                )
            row.stored_name = self.store.commit(call.id, f"{u.now:%Y/%m/%d}")
        row.state, row.stored_at = "stored", u.now
        call.recording_path = row.stored_name  # a name in the hub's store, not a desk path
        dossier = u.s.get(Dossier, row.dossier_id) if row.dossier_id else None
        audience = calls_audience()
        if dossier is not None:
            audience.add_dossier(dossier)
        u.emit(
            EventName.CALL_RECORDED,
            audience,
            call=call,
            dossier=dossier,
            sha256=row.sha256,
            size=row.size,
        )
        return {
            "call_ref": i.call_ref,
            "state": "stored",
            "sha256": row.sha256,
            "size": row.size,
            "call": call_view(call),
        }

    # -- playback (doctors and supervisors) ----------------------------------------------

    def _stored(
        self, u: Unit, dossier_id: int, *, lock: bool, intent: str = IntentName.RECORDING_OPEN
    ) -> tuple[Dossier, Recording]:
        assert u.actor is not None
        # A refused listening is in the audit of reads (app.audit), like a granted one.
        denied = refusal(u.actor.role, Action.LISTEN_RECORDINGS)
        if denied is not None:
            raise refused_read(denied, dossier_id, intent)
        d = u.s.get(Dossier, dossier_id, with_for_update=lock)
        if d is None or not can_see_dossier(u.actor, d, self.service._task_of(u, d)):
            raise refused_read(
                FlowError("not_found", f"dossier {dossier_id} introuvable ou non accessible"),
                dossier_id,
                intent,
            )
        row = u.s.scalar(
            select(Recording).where(Recording.dossier_id == d.id, Recording.state == "stored")
        )
        if row is None:
            raise FlowError("not_found", "aucun enregistrement conservé pour ce dossier")
        return d, row

    def open(self, u: Unit, i: RecordingOpen) -> dict[str, Any]:
        d, row = self._stored(u, i.dossier_id, lock=False)
        # The dossier's own log (who listened, when), seen by the supervisors, and the
        # audit of reads.
        u.emit(EventName.RECORDING_OPENED, Audience(), dossier=d, recording_id=row.id)
        assert u.actor is not None
        record_read(u.s, u.actor, u.actor.desk, d.id, IntentName.RECORDING_OPEN, at=u.now)
        return {"recording": recording_view(row), "chunk_bytes": READ_BYTES}

    def read(self, u: Unit, i: RecordingRead) -> dict[str, Any]:
        d, row = self._stored(u, i.dossier_id, lock=False, intent=IntentName.RECORDING_READ)
        assert u.actor is not None
        # Streamed without recording.open first: still one audited listening an hour.
        listening = (IntentName.RECORDING_READ, IntentName.RECORDING_OPEN)
        record_read_once(u.s, u.actor, d.id, listening, u.now)
        if i.offset > row.size:
            raise FlowError("invalid_message", f"octet {i.offset} au-delà de la fin ({row.size})")
        data = self.store.read(row.stored_name, i.offset, READ_BYTES)
        end = i.offset + len(data)
        return {
            "dossier_id": i.dossier_id,
            "offset": i.offset,
            "data": base64.b64encode(data).decode("ascii"),
            "size": row.size,
            "eof": end >= row.size,
        }


_INSTALLED: weakref.WeakKeyDictionary[FlowService, RecordingHandlers] = weakref.WeakKeyDictionary()


def install(service: FlowService) -> RecordingHandlers:
    handlers = RecordingHandlers(service)
    for intent, fn in (
        (CallRecording, handlers.begin),
        (RecordingChunk, handlers.chunk),
        (RecordingCommit, handlers.commit),
        (RecordingOpen, handlers.open),
        (RecordingRead, handlers.read),
    ):
        service.register(intent, fn)
    _INSTALLED[service] = handlers
    return handlers


def handlers_of(service: FlowService) -> RecordingHandlers | None:
    return _INSTALLED.get(service)


async def start(hub: Any) -> None:
    """The store named in the hub's settings (never a path from a desk)."""
    handlers = handlers_of(hub.service)
    if handlers is None:
        return
    root = hub.settings.recordings_store or default_store(hub.db_url)
    handlers.use_store(Path(root))
