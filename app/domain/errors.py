"""The refusal every rule raises; ``code`` goes on the wire."""

from __future__ import annotations

from typing import Any


class FlowError(Exception):
    """A rule of the flow refuses the intent. ``code`` goes on the wire."""

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        #: More fields of the error reply (``psc_unavailable`` says the ``fallback``).
        self.extra = extra or {}


def forbid(message: str) -> FlowError:
    return FlowError("forbidden", message)
