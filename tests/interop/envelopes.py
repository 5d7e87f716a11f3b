"""Reading the Hub Santé envelopes the tests receive."""

from __future__ import annotations

from typing import Any

from app.interop.hubsante import messages


def message(envelope: dict[str, Any]) -> dict[str, Any]:
    """The message an envelope carries (the test knows it carries one)."""
    found = messages.message_of(envelope)
    assert found is not None, f"no message in {envelope}"
    return found
