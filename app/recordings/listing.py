"""A dossier's recordings as the listener chooses among them: the incoming call, the
call-back calls, the calls placed from the slot search — when, which line or direction,
who was on the other end, which account took or placed it, how long.

Read beside the single writer (``recording.list``); plain dicts out, the desk words them.
"""

from __future__ import annotations

import wave
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callback.models import CallbackAttempt, CallbackTarget
from app.db.models import Call, User
from app.hub.views import iso
from app.recordings.models import Recording
from app.recordings.protocol import Kind
from app.recordings.store import RecordingStore


def recording_kind(r: Recording) -> str:
    if r.call_id is not None:
        return Kind.INCOMING
    return Kind.CALLBACK if r.attempt_id is not None else Kind.PLACED


def wav_seconds(path: Path) -> float | None:
    """The recording's length from its header (any rate: 8 kHz, or 16 kHz wideband)."""
    try:
        with wave.open(str(path), "rb") as w:
            return round(w.getnframes() / w.getframerate(), 1)
    except (OSError, EOFError, wave.Error, ZeroDivisionError):
        return None


def _names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = s.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {uid: name for uid, name in rows}


def dossier_recordings(s: Session, dossier_id: int, store: RecordingStore) -> list[dict[str, Any]]:
    """The dossier's stored recordings, oldest call first."""
    rows = list(
        s.scalars(
            select(Recording)
            .where(Recording.dossier_id == dossier_id, Recording.state == "stored")
            .order_by(Recording.id)
        )
    )
    calls = {
        c.id: c
        for c in s.scalars(select(Call).where(Call.id.in_([r.call_id for r in rows if r.call_id])))
    }
    attempts = {
        a.id: a
        for a in s.scalars(
            select(CallbackAttempt).where(
                CallbackAttempt.id.in_([r.attempt_id for r in rows if r.attempt_id])
            )
        )
    }
    targets = {
        t.id: t.name
        for t in s.scalars(
            select(CallbackTarget).where(
                CallbackTarget.id.in_([a.target_id for a in attempts.values()])
            )
        )
    }
    items = []
    for r in rows:
        item: dict[str, Any] = {"id": r.id, "size": r.size, "sha256": r.sha256}
        by: int | None = r.uploaded_by_id
        at: datetime | None = r.started_at
        if r.call_id is not None and r.call_id in calls:
            call = calls[r.call_id]
            at = call.answered_at or call.offered_at
            item.update(kind=Kind.INCOMING, line=call.line, number=call.caller, callee="")
            by = call.answered_by_id or by
        elif r.attempt_id is not None and r.attempt_id in attempts:
            attempt = attempts[r.attempt_id]
            at, by = attempt.at, attempt.by_id or by
            name = targets.get(attempt.target_id, "")
            item.update(kind=Kind.CALLBACK, line="", number=attempt.number, callee=name)
        else:
            item.update(kind=Kind.PLACED, line="", number=r.placed_number, callee=r.placed_to)
        item["at"] = iso(at)
        item["by_id"] = by
        item["seconds"] = wav_seconds(store.path(r.stored_name))
        items.append(item)
    names = _names(s, {i["by_id"] for i in items if i["by_id"] is not None})
    for item in items:
        item["by"] = names.get(item.pop("by_id"), "")
    items.sort(key=lambda i: (i["at"] or "", i["id"]))
    return items
