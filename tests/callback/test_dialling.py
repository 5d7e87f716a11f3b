"""The line's events become the attempt's facts; the hub stores them with the attempt."""

from __future__ import annotations

from app.callback.dialling import DialledCall
from telephony.line import LineEvent, LineEventKind
from tests.callback.conftest import Desks, Territory, osnp_task, plan, target


def events(call_id: str, *steps: tuple[LineEventKind, float, dict[str, str]]) -> list[LineEvent]:
    return [LineEvent(kind, call_id=call_id, at=at, **kw) for kind, at, kw in steps]


def test_answered_call_gives_talk_time_and_recording(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks)
    mt = target(plan(desks, task_id), "MT")
    call = DialledCall(mt["id"], mt["phone_direct"])
    other = LineEvent(LineEventKind.ANSWERED, call_id="someone-else", at=1.0)
    for e in events(
        "c-1",
        (LineEventKind.DIALING, 100.0, {"number": "0600000000"}),
        (LineEventKind.REMOTE_RINGING, 101.0, {}),
        (LineEventKind.ANSWERED, 108.0, {}),
        (LineEventKind.ENDED, 180.5, {"reason": "local_hangup"}),
        (LineEventKind.RECORDING, 181.0, {"path": "/rec/c-1.wav"}),
    ):
        assert call.feed(e)
    assert not call.feed(other)
    fields = call.attempt_fields()
    assert fields == {
        "target_id": mt["id"],
        "number": "0600000000",
        "call_ref": "c-1",
        "duration_seconds": 72.5,
    }  # no recording path: the desk uploads the WAV under the call's ref
    reply = desks.osnp.send(
        "callback.attempt", result="CALL_BACK", call_back_at="2026-11-23T16:00:00+01:00", **fields
    )
    assert reply["attempt"]["duration_seconds"] == 72.5
    assert reply["attempt"]["call_ref"] == "c-1"
    data = desks.osnp.emitted[0].message["data"]
    assert data["recording_path"] is None and data["duration_seconds"] == 72.5


def test_busy_and_unanswered_suggest_the_result() -> None:
    busy = DialledCall(1, "0600000000")
    for e in events(
        "c-2", (LineEventKind.DIALING, 0.0, {}), (LineEventKind.ENDED, 2.0, {"reason": "busy"})
    ):
        busy.feed(e)
    assert busy.attempt_fields()["result"] == "BUSY"
    assert busy.duration_seconds == 0.0
    silent = DialledCall(1, "0600000000")
    for e in events(
        "c-3",
        (LineEventKind.DIALING, 0.0, {}),
        (LineEventKind.ENDED, 30.0, {"reason": "no_answer"}),
    ):
        silent.feed(e)
    assert silent.attempt_fields()["result"] == "NO_ANSWER"
    ringing = DialledCall(1, "0600000000")
    ringing.feed(LineEvent(LineEventKind.DIALING, call_id="c-4", at=0.0))
    assert ringing.suggested_result() is None and not ringing.ended
