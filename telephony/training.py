"""The training line: rings the desk with scripted SAS calls, like a real line would.

It is the embedded default's line and a training tool for new ARMs. Events come from
timer threads, as the SIP line's come from its own threads, so the desk's hand-over
code is exercised.
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass

from telephony.line import EndReason, LineEvent, LineEventKind, PhoneLine
from telephony.scenarios import Scenario, load_scenarios


@dataclass
class _Call:
    call_id: str
    scenario: Scenario | None
    incoming: bool
    state: str = "ringing"  # ringing, answered, held, ended
    timer: threading.Timer | None = None


class TrainingLine(PhoneLine):
    """Rings every ``interval`` seconds when idle (0: only when ``ring()`` is called)."""

    def __init__(
        self,
        scenarios: list[Scenario] | None = None,
        *,
        interval: float = 45.0,
        give_up_after: float = 90.0,
        answer_delay: float = 2.0,
        seed: int | None = None,
    ):
        super().__init__()
        self.scenarios = scenarios if scenarios is not None else load_scenarios()
        self.interval = interval
        self.give_up_after = give_up_after
        self.answer_delay = answer_delay
        self._random = random.Random(seed)
        self._lock = threading.RLock()
        self._calls: dict[str, _Call] = {}
        self._ticker: threading.Timer | None = None
        self._running = False
        self.paused = False

    @property
    def label(self) -> str:
        return "Ligne d'entraînement"

    def scenario_of(self, call_id: str) -> Scenario | None:
        call = self._calls.get(call_id)
        return call.scenario if call else None

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        self._running = True
        self.emit(LineEvent(LineEventKind.REGISTERED, reason="ligne d'entraînement"))
        self._schedule_tick()

    def stop(self) -> None:
        with self._lock:
            self._running = False
            if self._ticker:
                self._ticker.cancel()
            for call in self._calls.values():
                if call.timer:
                    call.timer.cancel()

    def _schedule_tick(self) -> None:
        if self.interval > 0 and self._running:
            self._ticker = threading.Timer(self.interval, self._tick)
            self._ticker.daemon = True
            self._ticker.start()

    def pause(self, reason: str = "") -> None:
        """A paused desk does not ring (like a SIP desk answering 486)."""
        self.paused = True

    def ready(self) -> None:
        self.paused = False

    def _tick(self) -> None:
        with self._lock:
            busy = any(c.state != "ended" for c in self._calls.values())
        if not busy and not self.paused:
            self.ring()
        self._schedule_tick()

    # -- the caller's side ---------------------------------------------------------

    def ring(self, scenario_id: str | None = None) -> str:
        """Present a new incoming call now; returns its call_id."""
        if scenario_id is None:
            scenario = self._random.choices(
                self.scenarios, weights=[s.weight for s in self.scenarios]
            )[0]
        else:
            scenario = next(s for s in self.scenarios if s.id == scenario_id)
        call = _Call(f"training-{uuid.uuid4()}", scenario, incoming=True)
        with self._lock:
            self._calls[call.call_id] = call
            if self.give_up_after > 0:
                call.timer = threading.Timer(
                    self.give_up_after, self.caller_gives_up, (call.call_id,)
                )
                call.timer.daemon = True
                call.timer.start()
        self.emit(
            LineEvent(
                LineEventKind.RINGING,
                call_id=call.call_id,
                line=scenario.line,
                caller=scenario.caller,
            )
        )
        return call.call_id

    def caller_gives_up(self, call_id: str) -> None:
        self._end(call_id, EndReason.CALLER_GAVE_UP, only_if="ringing")

    def caller_hangs_up(self, call_id: str) -> None:
        self._end(call_id, EndReason.REMOTE_HANGUP, only_if="answered")

    # -- the desk's side -----------------------------------------------------------

    def answer(self, call_id: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state != "ringing":
                return
            call.state = "answered"
            if call.timer:
                call.timer.cancel()
        self.emit(LineEvent(LineEventKind.ANSWERED, call_id=call_id))

    def reject(self, call_id: str) -> None:
        self._end(call_id, EndReason.REJECTED, only_if="ringing")

    def hangup(self, call_id: str) -> None:
        self._end(call_id, EndReason.LOCAL_HANGUP)

    def hold(self, call_id: str) -> None:
        self._switch(call_id, "answered", "held", LineEventKind.HELD)

    def resume(self, call_id: str) -> None:
        self._switch(call_id, "held", "answered", LineEventKind.RESUMED)

    def transfer(self, call_id: str, target: str) -> None:
        self.emit(LineEvent(LineEventKind.TRANSFERRED, call_id=call_id, number=target))
        self._end(call_id, EndReason.TRANSFERRED)

    def send_dtmf(self, call_id: str, digits: str) -> None:
        """DTMF goes nowhere on the training line; accepted so the desk behaves the same."""

    def dial(self, number: str) -> str:
        call = _Call(f"training-out-{uuid.uuid4()}", None, incoming=False, state="dialing")
        with self._lock:
            self._calls[call.call_id] = call
        self.emit(LineEvent(LineEventKind.DIALING, call_id=call.call_id, number=number))
        call.timer = threading.Timer(self.answer_delay, self._remote_answers, (call.call_id,))
        call.timer.daemon = True
        call.timer.start()
        return call.call_id

    def _remote_answers(self, call_id: str) -> None:
        self._switch(call_id, "dialing", "answered", LineEventKind.ANSWERED)

    # -- internals ----------------------------------------------------------------

    def _switch(self, call_id: str, from_state: str, to_state: str, kind: LineEventKind) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state != from_state:
                return
            call.state = to_state
        self.emit(LineEvent(kind, call_id=call_id))

    def _end(self, call_id: str, reason: EndReason, only_if: str | None = None) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state == "ended":
                return
            if only_if is not None and call.state != only_if:
                return
            call.state = "ended"
            if call.timer:
                call.timer.cancel()
        self.emit(LineEvent(LineEventKind.ENDED, call_id=call_id, reason=str(reason)))
