"""Playback of a dossier's recordings by doctors and supervisors, streamed from the hub.

``recording.list`` gives the dossier's recordings (app.recordings.listing) for the
listener to choose one; ``recording.open`` writes the listening in the dossier's log and
the audit of reads; ``recording.read`` streams it in chunks beside the single writer.
Installed with the upload handlers by app.recordings.hub. See docs/protocol.md.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from sqlalchemy import select

from app.db.models import Dossier
from app.domain.permissions import Action, refusal
from app.domain.rules import FlowError
from app.hub.dossiers import audited_visible_dossier
from app.hub.events import EventName
from app.hub.extensions import Handler
from app.hub.protocol import Intent, IntentName
from app.hub.read_audit import record_read, record_read_once, refused_read
from app.hub.service import HubService, Unit
from app.hub.views import iso
from app.hub.visibility import Audience
from app.recordings.listing import dossier_recordings, recording_kind
from app.recordings.models import Recording
from app.recordings.protocol import (
    RecordingList,
    RecordingListReply,
    RecordingOpen,
    RecordingOpenReply,
    RecordingRead,
    RecordingReadReply,
    RecordingView,
)
from app.recordings.store import RecordingStore

#: Raw bytes per playback chunk (replies are not bound by the intents' limit).
READ_BYTES = 256 * 1024


def recording_view(r: Recording) -> RecordingView:
    return {
        "id": r.id,
        "call_id": r.call_id,
        "attempt_id": r.attempt_id,
        "placed_ref": r.placed_ref,
        "dossier_id": r.dossier_id,
        "size": r.size,
        "sha256": r.sha256,
        "state": r.state,
        "stored_at": iso(r.stored_at),
    }


class Playback:
    def handlers(self) -> dict[type[Intent], Handler]:
        return {
            RecordingList: self.listing,
            RecordingOpen: self.open,
            RecordingRead: self.read,
        }

    def __init__(self, service: HubService, store: Callable[[], RecordingStore]):
        self.service = service
        self.store = store  # the hub's store, known once the hub has started

    def _listened(self, u: Unit, dossier_id: int, intent: str) -> Dossier:
        """The dossier whose recordings this account may hear."""
        assert u.actor is not None
        # A refused listening is in the audit of reads (app.audit), like a granted one.
        denied = refusal(u.actor.role, Action.LISTEN_RECORDINGS)
        if denied is not None:
            raise refused_read(denied, dossier_id, intent)
        return audited_visible_dossier(u, dossier_id, intent)

    def _stored(
        self,
        u: Unit,
        dossier_id: int,
        recording_id: int | None,
        intent: str = IntentName.RECORDING_OPEN,
    ) -> tuple[Dossier, Recording]:
        d = self._listened(u, dossier_id, intent)
        query = select(Recording).where(Recording.dossier_id == d.id, Recording.state == "stored")
        if recording_id is not None:
            row = u.s.scalar(query.where(Recording.id == recording_id))
            if row is None:
                raise FlowError(
                    "not_found", f"enregistrement {recording_id} introuvable dans ce dossier"
                )
            return d, row
        # None chosen: the incoming call's recording first; the outgoing calls' after it.
        row = u.s.scalar(query.order_by(Recording.call_id.is_(None), Recording.id).limit(1))
        if row is None:
            raise FlowError("not_found", "aucun enregistrement conservé pour ce dossier")
        return d, row

    def listing(self, u: Unit, i: RecordingList) -> RecordingListReply:
        d = self._listened(u, i.dossier_id, IntentName.RECORDING_LIST)
        assert u.actor is not None
        # Who was called, by whom, when: a read of the dossier (once an hour per listener).
        record_read_once(u.s, u.actor, d.id, (IntentName.RECORDING_LIST,), u.now)
        return {"dossier_id": d.id, "recordings": dossier_recordings(u.s, d.id, self.store())}

    def open(self, u: Unit, i: RecordingOpen) -> RecordingOpenReply:
        d, row = self._stored(u, i.dossier_id, i.recording_id)
        # The dossier's own log (who listened, when), seen by the supervisors, and the
        # audit of reads.
        u.emit(
            EventName.RECORDING_OPENED,
            Audience(),
            dossier=d,
            recording_id=row.id,
            kind=recording_kind(row),
            callee=row.placed_to,
        )
        assert u.actor is not None
        record_read(u.s, u.actor, u.actor.desk, d.id, IntentName.RECORDING_OPEN, at=u.now)
        return {"recording": recording_view(row), "chunk_bytes": READ_BYTES}

    def read(self, u: Unit, i: RecordingRead) -> RecordingReadReply:
        d, row = self._stored(u, i.dossier_id, i.recording_id, IntentName.RECORDING_READ)
        assert u.actor is not None
        # Streamed without recording.open first: still one audited listening an hour.
        listening = (IntentName.RECORDING_READ, IntentName.RECORDING_OPEN)
        record_read_once(u.s, u.actor, d.id, listening, u.now)
        if i.offset > row.size:
            raise FlowError("invalid_message", f"octet {i.offset} au-delà de la fin ({row.size})")
        data = self.store().read(row.stored_name, i.offset, READ_BYTES)
        end = i.offset + len(data)
        return {
            "dossier_id": i.dossier_id,
            "recording_id": row.id,
            "offset": i.offset,
            "data": base64.b64encode(data).decode("ascii"),
            "size": row.size,
            "eof": end >= row.size,
        }
