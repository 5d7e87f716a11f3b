"""The desk's phone line, whatever rings it: the training line or a SIP back-end.

The desk and the hub only ever see this interface. Events are delivered through one
callback that may run on any thread (the SIP line, telephony/sip, calls back from its
transport, timer and audio threads; the training line from timers): the
consumer must hand them over to its own loop (``loop.call_soon_threadsafe`` or a Qt
signal) and never touch a widget from inside the callback.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class LineEventKind(StrEnum):
    REGISTERED = "registered"
    REGISTRATION_LOST = "registration_lost"
    REGISTRATION_RETRYING = "registration_retrying"
    REGISTRATION_FAILED = "registration_failed"  # e.g. wrong password: final until reconfigured
    RINGING = "ringing"  # incoming call presented (call_id, line, caller)
    DIALING = "dialing"  # outgoing call sent (call_id, number)
    REMOTE_RINGING = "remote_ringing"  # outgoing call: the far end rings
    ANSWERED = "answered"  # call established (either direction)
    HELD = "held"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"  # blind transfer accepted (target)
    DTMF = "dtmf"  # digit received
    RECORDING = "recording"  # the recording file of a call is complete (path)
    ENDED = "ended"  # call over (reason)


class EndReason(StrEnum):
    LOCAL_HANGUP = "local_hangup"
    REMOTE_HANGUP = "remote_hangup"
    CALLER_GAVE_UP = "caller_gave_up"  # CANCEL while ringing: a missed call
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # another desk of the fork answered
    REJECTED = "rejected"  # this desk declined (busy/paused)
    TRANSFERRED = "transferred"
    FAILED = "failed"  # network or protocol failure
    BUSY = "busy"  # outgoing call: the far end is busy
    NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class LineEvent:
    kind: LineEventKind
    call_id: str = ""
    line: str = ""  # dialled service line: "15", "116117" (or another number)
    caller: str = ""  # caller's number as presented
    number: str = ""  # outgoing: the number dialled; transfer: the target
    digit: str = ""
    reason: str = ""  # EndReason value, or a registration detail
    path: str = ""  # recording file
    at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, object]:
        data = {k: v for k, v in asdict(self).items() if v not in ("", None)}
        data["kind"] = str(self.kind)
        return data


LineListener = Callable[[LineEvent], None]


class PhoneLine(ABC):
    """One desk's line. Methods return quickly; outcomes arrive as events."""

    def __init__(self) -> None:
        self._listeners: list[LineListener] = []

    def subscribe(self, listener: LineListener) -> None:
        self._listeners.append(listener)

    def emit(self, event: LineEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    @property
    def label(self) -> str:
        """Short French description for the desk's status bar."""
        return type(self).__name__

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def answer(self, call_id: str) -> None: ...

    @abstractmethod
    def reject(self, call_id: str) -> None: ...

    @abstractmethod
    def hangup(self, call_id: str) -> None: ...

    @abstractmethod
    def dial(self, number: str) -> str:
        """Start an outgoing call; returns its call_id."""

    def hold(self, call_id: str) -> None:
        raise NotImplementedError(f"{self.label} ne gère pas la mise en attente")

    def resume(self, call_id: str) -> None:
        raise NotImplementedError(f"{self.label} ne gère pas la reprise")

    def transfer(self, call_id: str, target: str) -> None:
        raise NotImplementedError(f"{self.label} ne gère pas le transfert")

    def send_dtmf(self, call_id: str, digits: str) -> None:
        raise NotImplementedError(f"{self.label} ne gère pas l'envoi DTMF")
