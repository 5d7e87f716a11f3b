"""The refusal every rule raises; ``code`` goes on the wire."""

from __future__ import annotations


class FlowError(Exception):
    """A rule of the flow refuses the intent. ``code`` goes on the wire."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def forbid(message: str) -> FlowError:
    return FlowError("forbidden", message)
