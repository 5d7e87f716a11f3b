"""After the soak: every acknowledged intent against the database, and what was lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.db.engine import make_engine, make_sessionmaker
from app.db.models import Call, Dossier, Event, OsnpTask
from app.directory.models import Booking, Slot
from app.hub.events import EventName
from app.hub.protocol import IntentName
from app.recordings.models import Recording
from app.recordings.protocol import file_sha256

#: The event each acknowledged intent must have left in the log, on its dossier or task.
EVENT_OF = {
    IntentName.DOSSIER_UPDATE: EventName.DOSSIER_UPDATED,
    IntentName.DOSSIER_QUALIFY: EventName.DOSSIER_QUALIFIED,
    IntentName.DOSSIER_CLOSE: EventName.DOSSIER_CLOSED,
    IntentName.QUEUE_NEXT: EventName.DOSSIER_TAKEN,
    IntentName.DOSSIER_DECIDE: EventName.DOSSIER_DECIDED,
    IntentName.TASK_TAKE: EventName.TASK_TAKEN,
    IntentName.TASK_CLOSE: EventName.TASK_CLOSED,
}
READS = frozenset({IntentName.DOSSIER_GET})


def check(url: str, store: Path, acks: list[dict[str, Any]], seqs: list[int]) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return _check(s, store, acks, seqs)
    finally:
        engine.dispose()


def _missing(
    acks: list[dict[str, Any]],
    calls: dict[str, Call],
    dossiers: dict[int, Dossier],
    events: set[tuple[str, int]],
    task_events: set[tuple[str, int]],
    bookings: set[int | None],
) -> list[dict[str, Any]]:
    """The acknowledged writes the database does not show: a call, a dossier answered
    from it, the event of a dossier's or a task's change, a booking."""
    missing: list[dict[str, Any]] = []
    for ack in acks:
        kind = ack["type"]
        if kind in READS:
            continue
        if kind in (IntentName.CALL_OFFERED, IntentName.CALL_ENDED):
            ok = ack.get("call_ref") in calls
        elif kind == IntentName.CALL_ANSWERED:
            d = dossiers.get(ack.get("dossier_id", -1))
            ok = (
                d is not None
                and calls.get(ack["call_ref"]) is not None
                and d.call_id == calls[ack["call_ref"]].id
                and d.answered_at is not None
            )
        elif kind in (IntentName.TASK_TAKE, IntentName.TASK_CLOSE):
            ok = (EVENT_OF[kind], ack.get("task_id")) in task_events
        elif kind == IntentName.SLOT_BOOK:
            ok = ack.get("dossier_id") in bookings
        elif kind in EVENT_OF:
            ok = (EVENT_OF[kind], ack.get("dossier_id")) in events
        else:  # call.recording / chunks / commit: the recordings check below
            continue
        if not ok:
            missing.append(ack)
    return missing


def _check(s: Any, store: Path, acks: list[dict[str, Any]], seqs: list[int]) -> dict[str, Any]:
    calls = {c.call_ref: c for c in s.scalars(select(Call))}
    dossiers = {d.id: d for d in s.scalars(select(Dossier))}
    events: set[tuple[str, int]] = set()
    task_events: set[tuple[str, int]] = set()
    for type_, did, tid in s.execute(select(Event.type, Event.dossier_id, Event.task_id)):
        if did is not None:
            events.add((type_, did))
        if tid is not None:
            task_events.add((type_, tid))
    bookings = {b.dossier_id for b in s.scalars(select(Booking)) if b.released_at is None}
    missing = _missing(acks, calls, dossiers, events, task_events, bookings)
    answered_refs = {
        a["call_ref"]: a.get("dossier_id") for a in acks if a["type"] == IntentName.CALL_ANSWERED
    }
    lost_dossiers = [ref for ref, did in answered_refs.items() if did not in dossiers]
    # Recordings: every answered call's WAV in the store, its hash checked.
    stored = {r.call_id: r for r in s.scalars(select(Recording))}
    answered_calls = [c for c in calls.values() if c.answered_at is not None]
    lost_recordings, hash_bad = [], []
    for call in answered_calls:
        row = stored.get(call.id)
        if row is None or row.state != "stored":
            lost_recordings.append(call.call_ref)
            continue
        path = store / row.stored_name
        if not path.exists() or file_sha256(path) != row.sha256:
            hash_bad.append(call.call_ref)
    # Ranges: never more places taken than offered.
    overbooked = 0
    active = Counter(b.slot_id for b in s.scalars(select(Booking)) if b.released_at is None)
    for slot in s.scalars(select(Slot)):
        if slot.booked > slot.capacity or active.get(slot.id, 0) > slot.capacity:
            overbooked += 1
    # Event sequence: in the log (gaps: numbers never used; duplicates impossible by the
    # key but counted), and as delivered to the supervisor's desk (no event twice).
    count, low, high = s.execute(
        select(func.count(), func.min(Event.seq), func.max(Event.seq))
    ).one()
    delivered = Counter(seqs)
    status = Counter(d.status for d in dossiers.values())
    tasks_open = (
        s.scalar(select(func.count()).select_from(OsnpTask).where(OsnpTask.status != "DONE")) or 0
    )
    return {
        "calls_in_hub": len(calls),
        "calls_answered": len(answered_calls),
        "calls_abandoned": sum(1 for c in calls.values() if c.abandoned),
        "calls_not_ended": sum(1 for c in calls.values() if c.ended_at is None),
        "acknowledged_intents_missing": len(missing),
        "missing_examples": missing[:5],
        "dossiers": len(dossiers),
        "dossiers_by_status": dict(status),
        "tasks_open": tasks_open,
        "dossiers_lost": len(lost_dossiers),
        "recordings_stored": sum(1 for r in stored.values() if r.state == "stored"),
        "recordings_lost": len(lost_recordings) + len(hash_bad),
        "recordings_lost_examples": (lost_recordings + hash_bad)[:5],
        "recordings_hash_mismatch": len(hash_bad),
        "ranges_overbooked": overbooked,
        "bookings": sum(active.values()),
        "events": count,
        "event_seq_gaps_in_log": (high - low + 1 - count) if count else 0,
        "event_seq_duplicates_delivered": sum(n - 1 for n in delivered.values() if n > 1),
        "events_delivered_to_supervisor": len(seqs),
    }
