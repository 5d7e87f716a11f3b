"""A call ended late (a desk that crashed mid-call ends it at its next start) keeps the
end the desk gives, within the call: the hub's row, its event and the statistics facts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.db.models import Call
from app.domain.rules import FlowError
from app.hub.protocol import ProtocolError
from tests.stats.room import Room
from tests.stats.test_projection import assert_same, folded, stored


def ended_row(room: Room, ref: str) -> Call:
    with room.sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == ref))
        assert call is not None and call.ended_at is not None
        return call


def same_instant(a: datetime | None, b: datetime) -> bool:
    assert a is not None
    return a.replace(tzinfo=None) == b.replace(tzinfo=None)


def crashed_call(room: Room, talk: float, later: float) -> tuple[str, datetime]:
    """A call answered, then its desk gone for ``later`` seconds past ``talk`` seconds of talk."""
    ref = room.ring()
    room.clock.tick(12)
    room.answer(ref)
    answered = room.clock.now
    room.clock.tick(talk + later)
    return ref, answered


def test_a_crashed_desks_call_keeps_its_talk_time_to_the_given_end(room: Room) -> None:
    ref, answered = crashed_call(room, talk=180, later=900)
    stopped = answered + timedelta(seconds=180)
    room.send("n1", "call.ended", call_ref=ref, reason="desk_crashed", ended_at=stopped)

    call = ended_row(room, ref)
    assert call.end_reason == "desk_crashed" and not call.abandoned
    assert same_instant(call.ended_at, stopped)
    event = room.broadcast[-1]
    assert event["event"] == "call.ended"
    assert event["data"]["talk_seconds"] == 180.0
    assert datetime.fromisoformat(event["data"]["ended_at"]) == stopped
    # The statistics fold the given end, not the time the desk came back.
    facts = stored(room.sessions)
    fact = facts.calls[call.id]
    assert same_instant(fact.ended_at, stopped)
    assert fact.answered_at is not None and fact.ended_at is not None
    assert (fact.ended_at - fact.answered_at).total_seconds() == 180.0
    assert_same(facts, folded(room.sessions))


def test_the_given_end_is_kept_between_the_answer_and_the_hubs_now(room: Room) -> None:
    early, answered = crashed_call(room, talk=30, later=60)
    room.send(
        "n1", "call.ended", call_ref=early, reason="desk_crashed", ended_at=answered - timedelta(1)
    )
    assert same_instant(ended_row(room, early).ended_at, answered)
    assert room.broadcast[-1]["data"]["talk_seconds"] == 0.0

    late, answered = crashed_call(room, talk=30, later=60)
    ahead = room.clock.now + timedelta(hours=3)  # a desk clock in the future
    room.send("n1", "call.ended", call_ref=late, reason="desk_crashed", ended_at=ahead)
    assert same_instant(ended_row(room, late).ended_at, room.clock.now)
    assert room.broadcast[-1]["data"]["talk_seconds"] == 90.0

    # An unanswered call: not before it was offered.
    missed = room.ring()
    offered = room.clock.now
    room.clock.tick(40)
    room.send(
        "n1",
        "call.ended",
        call_ref=missed,
        reason="caller_gave_up",
        ended_at=offered - timedelta(1),
    )
    call = ended_row(room, missed)
    assert call.abandoned and same_instant(call.ended_at, offered)
    assert_same(stored(room.sessions), folded(room.sessions))


def test_a_given_end_needs_its_utc_offset_and_the_holding_desk(room: Room) -> None:
    ref, answered = crashed_call(room, talk=30, later=60)
    naive = (answered + timedelta(seconds=20)).replace(tzinfo=None)
    with pytest.raises(ProtocolError, match="UTC offset"):
        room.send("n1", "call.ended", call_ref=ref, reason="desk_crashed", ended_at=naive)
    # Another desk the call never rang learns nothing of it and ends nothing.
    with pytest.raises(FlowError) as refused:
        room.send("n1b", "call.ended", call_ref=ref, reason="desk_crashed", ended_at=answered)
    assert refused.value.code == "not_found"
    with room.sessions() as s:
        call = s.scalar(select(Call).where(Call.call_ref == ref))
        assert call is not None and call.ended_at is None
