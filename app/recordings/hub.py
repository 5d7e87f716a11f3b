"""Recordings kept by the hub: upload (chunked, resumable, SHA-256 checked) and playback.

Installed by ``app.hub.extensions``. The desk that answered a call — or the OSNP's
desk that made an outgoing call-back call, once its attempt is noted with the call's
ref (``recording.outgoing``), or the desk that phoned a doctor from the slot search
about a dossier (``recording.placed``) — declares its WAV (``call.recording``: size and
SHA-256, never a path), sends
it in chunks at the offset the hub says it has (``recording.chunk``), then asks the
hub to check and keep it (``recording.commit``). Doctors and supervisors list a
dossier's recordings (``recording.list``: the incoming call, call-back calls, calls
placed from the search), open the one they choose (``recording.open``, written in the
dossier's log: who listened, when) and read it in chunks (``recording.read``, beside
the single writer; app/recordings/playback.py). See docs/protocol.md.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.callback.models import CallbackAttempt
from app.db.audit import AuditRead
from app.db.models import Call, Dossier, OsnpTask
from app.domain.permissions import Action, require
from app.domain.rules import FlowError, forbid
from app.hub.context import HubContext
from app.hub.dossiers import locked_dossier, task_of
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit
from app.hub.views import call_view
from app.hub.visibility import Audience, calls_audience, can_see_dossier
from app.recordings import playback
from app.recordings import protocol as recordings_protocol
from app.recordings.models import Recording
from app.recordings.protocol import (
    CHUNK_BYTES,
    CallRecording,
    Declared,
    OutgoingRecording,
    RecordingChunk,
    RecordingCommit,
    RecordingPlaced,
    UploadState,
    file_sha256,
)
from app.recordings.store import Key, RecordingStore, default_store


@dataclass(frozen=True)
class Source:
    """What a recording belongs to: an incoming call, a call-back call's attempt, or a
    call placed from the slot search (its recording row, which is all the hub knows)."""

    call: Call | None = None
    attempt: CallbackAttempt | None = None
    placed: Recording | None = None

    @property
    def key(self) -> Key:
        if self.call is not None:
            return self.call.id
        if self.placed is not None:
            return f"out-{self.placed.id}"
        assert self.attempt is not None
        return f"cb-{self.attempt.id}"

    def row(self, u: Unit) -> Recording | None:
        if self.placed is not None:
            return self.placed
        if self.call is not None:
            return u.s.scalar(select(Recording).where(Recording.call_id == self.call.id))
        assert self.attempt is not None
        return u.s.scalar(select(Recording).where(Recording.attempt_id == self.attempt.id))

    def new_row(self, u: Unit, i: Declared) -> Recording:
        assert u.actor is not None
        if self.call is not None:
            dossier_id = u.s.scalar(select(Dossier.id).where(Dossier.call_id == self.call.id))
        else:
            assert self.attempt is not None
            task = u.s.get(OsnpTask, self.attempt.task_id)
            dossier_id = task.dossier_id if task else None
        return Recording(
            call_id=self.call.id if self.call else None,
            attempt_id=self.attempt.id if self.attempt else None,
            dossier_id=dossier_id,
            uploaded_by_id=u.actor.user_id,
            sha256=i.sha256,
            size=i.size,
            state="uploading",
            started_at=u.now,
        )


class RecordingHandlers:
    def __init__(self, service: HubService, store: RecordingStore | None = None):
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
    def _answered_call(u: Unit, call_ref: str) -> Source:
        """The incoming call this desk answered: only that desk uploads its recording."""
        assert u.actor is not None
        require(u.actor.role, Action.ANSWER_CALLS)
        call = u.s.scalar(select(Call).where(Call.call_ref == call_ref))
        if call is None:
            raise FlowError("not_found", f"appel {call_ref} inconnu")
        if call.answered_by_id != u.actor.user_id:
            raise forbid("seul le poste qui a pris l'appel en dépose l'enregistrement")
        return Source(call=call)

    @staticmethod
    def _noted_call(u: Unit, call_ref: str) -> Source:
        """The outgoing call-back call this desk made and noted (its attempt)."""
        assert u.actor is not None
        require(u.actor.role, Action.CALL_BACK)
        attempt = u.s.scalar(
            select(CallbackAttempt)
            .where(CallbackAttempt.call_ref == call_ref)
            .order_by(CallbackAttempt.id)
            .limit(1)
        )
        if attempt is None:
            raise FlowError("not_found", f"aucun appel de rappel noté pour {call_ref}")
        if attempt.by_id != u.actor.user_id:
            raise forbid("seul le poste qui a passé l'appel en dépose l'enregistrement")
        return Source(attempt=attempt)

    @staticmethod
    def _placed_call(u: Unit, call_ref: str) -> Source:
        """A call this desk placed from the slot search, already declared."""
        assert u.actor is not None
        require(u.actor.role, Action.SEARCH_SLOTS)
        row = u.s.scalar(select(Recording).where(Recording.placed_ref == call_ref))
        if row is None:
            raise FlowError("not_found", f"aucun appel passé depuis la recherche pour {call_ref}")
        if row.uploaded_by_id != u.actor.user_id:
            raise forbid("seul le poste qui a passé l'appel en dépose l'enregistrement")
        return Source(placed=row)

    def _new_placed_call(self, u: Unit, i: RecordingPlaced) -> Source:
        """The first declaration of a call placed from the slot search: its row, linked
        to the dossier in hand (one this account sees)."""
        assert u.actor is not None
        require(u.actor.role, Action.SEARCH_SLOTS)
        if u.s.scalar(select(Recording.id).where(Recording.placed_ref == i.call_ref)):
            return self._placed_call(u, i.call_ref)
        known = u.s.scalar(select(Call.id).where(Call.call_ref == i.call_ref)) or u.s.scalar(
            select(CallbackAttempt.id).where(CallbackAttempt.call_ref == i.call_ref)
        )
        if known:
            raise FlowError("conflict", f"l'appel {i.call_ref} est déjà connu du hub")
        dossier_id = None
        if i.dossier_id is not None:
            d = locked_dossier(u, i.dossier_id)
            if d is None or not self._had_in_hand(u, d):
                raise FlowError(
                    "not_found", f"dossier {i.dossier_id} introuvable ou non accessible"
                )
            dossier_id = d.id
        answered = min(i.answered_at, u.now) if i.answered_at is not None else u.now
        row = Recording(
            placed_ref=i.call_ref,
            placed_number=i.number,
            placed_to=i.callee,
            dossier_id=dossier_id,
            uploaded_by_id=u.actor.user_id,
            sha256=i.sha256,
            size=i.size,
            state="uploading",
            started_at=answered,
        )
        u.s.add(row)
        u.s.flush()  # its id names the part in the store
        return Source(placed=row)

    def _had_in_hand(self, u: Unit, d: Dossier) -> bool:
        """The account sees the dossier, or read it before (the audit of reads): the call
        was placed with it in hand, though it may have moved on since (another track, a
        desk back after a crash), and its recording must still reach it."""
        assert u.actor is not None
        if can_see_dossier(u.actor, d, task_of(u, d)):
            return True
        read = select(AuditRead.id).where(
            AuditRead.dossier_id == d.id,
            AuditRead.user_id == u.actor.user_id,
            AuditRead.granted.is_(True),
        )
        return u.s.scalar(read.limit(1)) is not None

    def _source(self, u: Unit, call_ref: str) -> Source:
        """Chunks and commit: the incoming call of that ref, else the call placed from
        the search, else the call-back call."""
        exists = u.s.scalar(select(Call.id).where(Call.call_ref == call_ref))
        if exists is not None:
            return self._answered_call(u, call_ref)
        if u.s.scalar(select(Recording.id).where(Recording.placed_ref == call_ref)):
            return self._placed_call(u, call_ref)
        return self._noted_call(u, call_ref)

    def begin(self, u: Unit, i: Declared) -> UploadState:
        if isinstance(i, CallRecording):
            source = self._answered_call(u, i.call_ref)
        elif isinstance(i, RecordingPlaced):
            source = self._new_placed_call(u, i)
        else:
            source = self._noted_call(u, i.call_ref)
        row = source.row(u)
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
            row = source.new_row(u, i)
            u.s.add(row)
        elif (row.sha256, row.size) != (i.sha256, i.size):
            self.store.discard(source.key)  # another file for this call: start it again
            row.sha256, row.size = i.sha256, i.size
        received = self.store.received(source.key)
        if received > i.size:
            self.store.discard(source.key)
            received = 0
        return {
            "call_ref": i.call_ref,
            "state": "uploading",
            "received": received,
            "chunk_bytes": CHUNK_BYTES,
        }

    def chunk(self, u: Unit, i: RecordingChunk) -> UploadState:
        source = self._source(u, i.call_ref)
        row = source.row(u)
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
        with self.store.lock(source.key):
            try:
                received = self.store.append(source.key, i.offset, data)
            except ValueError as exc:
                raise FlowError(
                    "invalid_state",
                    f"morceau à l'octet {i.offset}, le hub en a "
                    f"{exc.args[0]} : reprenez à cet octet",
                ) from None
        return {"call_ref": i.call_ref, "received": received}

    def commit(self, u: Unit, i: RecordingCommit) -> UploadState:
        source = self._source(u, i.call_ref)
        row = source.row(u)
        if row is None:
            raise FlowError("invalid_state", "aucun enregistrement déclaré pour cet appel")
        if row.state == "stored":
            return {
                "call_ref": i.call_ref,
                "state": "stored",
                "sha256": row.sha256,
                "size": row.size,
            }
        with self.store.lock(source.key):
            received = self.store.received(source.key)
            if received != row.size:
                raise FlowError(
                    "invalid_state", f"enregistrement incomplet : {received} octets sur {row.size}"
                )
            digest = file_sha256(self.store.partial(source.key))
            if digest != row.sha256:
                self.store.discard(source.key)
                raise FlowError(
                    "hash_mismatch",
                    "l'enregistrement reçu ne correspond pas à "
                    "son empreinte SHA-256 : renvoyez-le en entier",
                )
            row.stored_name = self.store.commit(source.key, f"{u.now:%Y/%m/%d}")
        row.state, row.stored_at = "stored", u.now
        reply: UploadState = {
            "call_ref": i.call_ref,
            "state": "stored",
            "sha256": row.sha256,
            "size": row.size,
        }
        return self._announce(u, source, row, reply)

    @staticmethod
    def _announce(u: Unit, source: Source, row: Recording, reply: UploadState) -> UploadState:
        """``call.recorded`` to whoever follows what the recording belongs to (the call's
        desks, the placing desk, the call-back's); the reply gets the part that names it."""
        dossier = locked_dossier(u, row.dossier_id) if row.dossier_id else None
        if source.call is not None:
            call = source.call
            call.recording_path = row.stored_name  # a name in the hub's store, not a path
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
            reply["call"] = call_view(call)
            return reply
        if source.placed is not None:
            audience = Audience(users={row.uploaded_by_id})
            if dossier is not None:
                audience.add_dossier(dossier, task_of(u, dossier))
            u.emit(
                EventName.CALL_RECORDED,
                audience,
                dossier=dossier,
                call_ref=row.placed_ref,
                number=row.placed_number,
                callee=row.placed_to,
                sha256=row.sha256,
                size=row.size,
            )
            reply["recording_id"] = row.id
            return reply
        attempt = source.attempt
        assert attempt is not None
        attempt.recording_path = row.stored_name
        task = u.s.get(OsnpTask, attempt.task_id)
        audience = Audience()
        if dossier is not None:
            audience.add_dossier(dossier, task)
        u.emit(
            EventName.CALL_RECORDED,
            audience,
            dossier=dossier,
            task=task,
            attempt_id=attempt.id,
            call_ref=attempt.call_ref,
            sha256=row.sha256,
            size=row.size,
        )
        reply["attempt_id"] = attempt.id
        return reply


class RecordingsExtension(Extension):
    """Recordings uploaded by the desks, kept in the hub's store, played back."""

    name = "app.recordings"
    protocol: tuple[type[Intent], ...] = recordings_protocol.INTENTS

    def __init__(self, service: HubService):
        self.recordings = RecordingHandlers(service)
        self.playback = playback.Playback(service, lambda: self.recordings.store)

    def handlers(self) -> Mapping[type[Intent], Handler]:
        r = self.recordings
        return {
            CallRecording: r.begin,
            OutgoingRecording: r.begin,
            RecordingPlaced: r.begin,
            RecordingChunk: r.chunk,
            RecordingCommit: r.commit,
            **self.playback.handlers(),
        }

    async def start(self, ctx: HubContext) -> None:
        """The store named in the hub's settings (never a path from a desk)."""
        root = ctx.settings.recordings_store or default_store(ctx.db_url)
        self.recordings.use_store(Path(root))
