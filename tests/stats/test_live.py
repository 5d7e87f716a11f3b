"""The supervisor's live view, fed only by the events the hub broadcasts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.rules import FlowError
from app.stats.live import LiveState
from tests.stats.room import Room


def fed(room: Room, live: LiveState | None = None) -> LiveState:
    live = live or LiveState()
    for message in room.broadcast:
        live.apply(message)
    room.broadcast.clear()
    return live


def waiting(view: dict) -> dict[tuple[str, str], int]:
    return {(w["line"], w["level"]): w["count"] for w in view["calls_waiting"]}


def test_calls_and_dossiers_waiting_per_line_and_level_and_the_longest_wait(room: Room) -> None:
    first = room.ring("15", desks=("n1", "n1b"))
    room.clock.tick(20)
    room.ring("15")
    room.clock.tick(10)
    room.ring("116117")
    live = fed(room)
    view = live.view(room.clock.now)
    assert waiting(view) == {("15", "N1"): 2, ("116117", "N1"): 1}
    assert view["longest_wait_seconds"] == 30.0
    d = room.answer(first, "n1b")
    room.send("n1b", "dossier.qualify", dossier_id=d, priority="P2")
    view = fed(room, live).view(room.clock.now)
    assert waiting(view) == {("15", "N1"): 1, ("116117", "N1"): 1, ("15", "Régulation libérale"): 1}
    assert view["longest_wait_seconds"] == 10.0
    [queued] = view["dossiers_waiting"]
    assert queued["id"] == d and queued["priority"] == "P2"
    room.send("mrl", "dossier.take", dossier_id=d)
    view = fed(room, live).view(room.clock.now)
    assert ("15", "Régulation libérale") not in waiting(view) and not view["dossiers_waiting"]


def test_desks_by_state_follow_their_calls_and_their_own_state(room: Room) -> None:
    room.send("n1", "desk.state", state="READY")
    room.send("n1b", "desk.state", state="PAUSED")
    live = fed(room)
    assert live.view(room.clock.now)["desks"] == {
        "READY": 1,
        "PAUSED": 1,
        "IN_CALL": 0,
        "WRAP_UP": 0,
        "OFFLINE": 0,
    }
    ref = room.ring("15")
    room.answer(ref, "n1")
    assert fed(room, live).view(room.clock.now)["desks"]["IN_CALL"] == 1
    # A supervisor connecting now gets the same desks from stats.live.
    late = LiveState()
    late.load(room.send("sup", "stats.live"))
    assert {d["state"] for d in late.desks.values()} == {"IN_CALL", "PAUSED"}
    room.hang_up(ref, "n1", "hangup")
    view = fed(room, live).view(room.clock.now)
    assert (view["desks"]["IN_CALL"], view["desks"]["WRAP_UP"]) == (0, 1)
    room.send("n1", "desk.state", state="READY")
    assert fed(room, live).view(room.clock.now)["desks"]["READY"] == 1


def test_only_the_supervisor_reads_the_room(room: Room) -> None:
    with pytest.raises(FlowError) as err:
        room.send("n1", "stats.live")
    assert err.value.code == "forbidden"


def test_osnp_tasks_waiting_with_their_age_and_the_48h_deadline(room: Room) -> None:
    _, task = room.snp_task()
    live = fed(room)
    created = room.clock.now
    view = live.view(created + timedelta(hours=45))
    [t] = view["tasks_waiting"]
    assert t["id"] == task and t["age_seconds"] == 45 * 3600
    assert t["seconds_to_deadline"] == 3 * 3600
    assert [a["code"] for a in view["alerts"]] == ["task_deadline"]
    assert [a["code"] for a in live.view(created + timedelta(hours=49))["alerts"]] == [
        "task_overdue"
    ]
    room.close_task(task, "RDV_MT")
    assert fed(room, live).view(room.clock.now)["tasks_waiting"] == []


def test_an_alert_when_the_answering_target_slips(room: Room) -> None:
    live = LiveState(min_calls=20)
    for _ in range(20):
        room.dossier(wait=8)
    fed(room, live)
    assert live.view(room.clock.now)["alerts"] == []
    assert live.view(room.clock.now)["answered_within_target_rate"] == 1.0
    ref = room.ring("116117")
    room.clock.tick(45)
    view = fed(room, live).view(room.clock.now)
    assert view["alerts"] == []  # ringing 45 s: not late yet
    room.clock.tick(30)
    view = live.view(room.clock.now)  # the clock alone: the call has now missed the minute
    assert [a["code"] for a in view["alerts"]] == ["answering_target", "call_waiting"]
    assert "95,2 %" in view["alerts"][0]["message"]
    room.hang_up(ref, "n1", "caller_gave_up")
    view = fed(room, live).view(room.clock.now)
    assert [a["code"] for a in view["alerts"]] == ["answering_target"]
    assert waiting(view) == {("15", "Régulation libérale"): 20}  # no call ringing any more
    assert view["calls_in_window"] == 21
    # An hour later the window has moved on.
    assert live.view(room.clock.now + timedelta(hours=2))["alerts"] == []


def test_events_replayed_after_a_reconnect_are_not_counted_twice(room: Room) -> None:
    room.ring("15")
    messages = list(room.broadcast)
    live = fed(room)
    for message in messages:
        live.apply(message)
    assert waiting(live.view(room.clock.now)) == {("15", "N1"): 1}
    assert len(live.recent) == 1
