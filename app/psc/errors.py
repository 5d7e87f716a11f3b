"""What can go wrong with Pro Santé Connect, as the hub answers it to a desk."""

from __future__ import annotations


class PscUnavailable(Exception):
    """PSC did not answer (network, timeout, 5xx, an unreadable discovery document): the
    room's fallback applies."""


class PscRefused(Exception):
    """PSC answered no, or its answer failed validation. ``code`` is the desk's error code
    (psc_denied, psc_expired, psc_invalid); the message is French, for the desk; ``why``
    is the technical detail for the hub's log (never sent to a desk)."""

    def __init__(self, code: str, message: str, why: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.why = why or message
