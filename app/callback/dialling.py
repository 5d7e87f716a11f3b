"""From the line's events to the attempt's facts: number, call ref, duration, recording.

The desk dials a target through ``telephony.line.PhoneLine.dial`` and feeds this
tracker the line's events for that call (on its own loop, never from the line's
thread). When the call ends it gives the ``callback.attempt`` fields the desk sends,
with a suggested result when the doctor never picked up (busy, no answer); once
answered, the outcome is the OSNP's to choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.callback.vocab import AttemptResult
from telephony.line import EndReason, LineEvent, LineEventKind


@dataclass
class DialledCall:
    target_id: int
    number: str
    call_id: str = ""
    dialled_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str = ""
    recording_path: str = ""

    def feed(self, event: LineEvent) -> bool:
        """Take one line event; False when it belongs to another call."""
        if self.call_id and event.call_id != self.call_id:
            return False
        if event.kind is LineEventKind.DIALING:
            self.call_id = self.call_id or event.call_id
            self.dialled_at = event.at
        elif event.kind is LineEventKind.ANSWERED:
            self.answered_at = event.at
        elif event.kind is LineEventKind.ENDED:
            self.ended_at = event.at
            self.end_reason = event.reason
        elif event.kind is LineEventKind.RECORDING:
            self.recording_path = event.path
        return True

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def duration_seconds(self) -> float:
        """Talk time: from the answer to the hang-up (0 when nobody answered)."""
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return round(max(0.0, self.ended_at - self.answered_at), 3)

    def suggested_result(self) -> AttemptResult | None:
        if self.answered_at is not None or not self.ended:
            return None
        if self.end_reason == EndReason.BUSY:
            return AttemptResult.BUSY
        return AttemptResult.NO_ANSWER

    def attempt_fields(self) -> dict[str, Any]:
        """The ``callback.attempt`` fields the line knows (the OSNP adds the result). The
        recording is not among them: the desk uploads it under ``call_ref``."""
        fields: dict[str, Any] = {
            "target_id": self.target_id,
            "number": self.number,
            "call_ref": self.call_id,
            "duration_seconds": self.duration_seconds,
        }
        result = self.suggested_result()
        if result is not None:
            fields["result"] = str(result)
        return fields
