"""A dossier's recordings as the listener chooses among them: the incoming call, the
call-back calls, the calls placed from the slot search — when, which line or direction,
who was on the other end, which account took or placed it, how long.

Read beside the single writer (``recording.list``); plain dicts out, the desk words them.
"""

from __future__ import annotations

import wave
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callback.models import CallbackAttempt, CallbackTarget
from app.db.models import Call, User
from app.hub.views import iso
from app.recordings.models import Recording
from app.recordings.protocol import Kind, RecordingRow
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


def dossier_recordings(s: Session, dossier_id: int, store: RecordingStore) -> list[RecordingRow]:
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
    found: list[tuple[Recording, str, str, str, str, datetime | None, int | None]] = []
    for r in rows:
        by: int | None = r.uploaded_by_id
        at: datetime | None = r.started_at
        if r.call_id is not None and r.call_id in calls:
            call = calls[r.call_id]
            at = call.answered_at or call.offered_at
            kind, line, number, callee = Kind.INCOMING, call.line, call.caller, ""
            by = call.answered_by_id or by
        elif r.attempt_id is not None and r.attempt_id in attempts:
            attempt = attempts[r.attempt_id]
            at, by = attempt.at, attempt.by_id or by
            name = targets.get(attempt.target_id, "")
            kind, line, number, callee = Kind.CALLBACK, "", attempt.number, name
        else:
            kind, line, number, callee = Kind.PLACED, "", r.placed_number, r.placed_to
        found.append((r, kind, line, number, callee, at, by))
    names = _names(s, {by for *_, by in found if by is not None})
    items: list[RecordingRow] = [
        {
            "id": r.id,
            "kind": kind,
            "at": iso(at),
            "line": line,
            "number": number,
            "callee": callee,
            "by": names.get(by, "") if by is not None else "",
            "seconds": wav_seconds(store.path(r.stored_name)),
            "size": r.size,
            "sha256": r.sha256,
        }
        for r, kind, line, number, callee, at, by in found
    ]
    items.sort(key=lambda i: (i["at"] or "", i["id"]))
    return items
