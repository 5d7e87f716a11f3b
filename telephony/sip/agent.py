"""Agent state of a desk, and what :class:`~telephony.line.PhoneLine` lacks for it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AgentState(StrEnum):
    READY = "ready"
    PAUSED = "paused"  # does not ring: incoming calls get 486 and the fork goes on
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"  # after a call, until the desk is ready again


class RegistrationState(StrEnum):
    UNREGISTERED = "unregistered"
    REGISTERING = "registering"
    REGISTERED = "registered"
    LOST = "lost"
    RETRYING = "retrying"
    FAILED = "failed"  # final: wrong password, unknown desk


@dataclass(frozen=True)
class Registration:
    state: RegistrationState
    expires: int = 0  # granted by the registrar
    refreshes: int = 0  # successful REGISTERs since start
    detail: str = ""
