"""docs/callback.md shows a valid example of every call-back intent (merged into
docs/protocol.md by the lead; until then tests/guards/test_docs.py lists them)."""

from __future__ import annotations

import json
from pathlib import Path

import app.callback.hub  # noqa: F401  (defines the intents)
from app.room import hub_wire
from tests.guards.test_docs import json_blocks

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks

DOC = Path(__file__).resolve().parents[2] / "docs" / "callback.md"


def test_every_callback_intent_has_a_valid_example() -> None:
    examples = [b for b in json_blocks(DOC.read_text(encoding="utf-8"))]
    ours = {t for t in WIRE.names if t.startswith("callback.")}
    assert len(ours) == 11
    assert ours <= {b["type"] for b in examples}
    for example in examples:
        WIRE.parse(json.dumps(example))
