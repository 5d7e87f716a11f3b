"""docs/directory.md has a valid example of every directory intent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

from app.directory import hub as directory_hub
from app.hub.protocol import Intent
from app.room import hub_wire

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks

DOC = Path(__file__).resolve().parents[2] / "docs" / "directory.md"


def test_every_directory_intent_has_a_valid_example() -> None:
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)]
    ours = {
        get_args(cls.model_fields["type"].annotation)[0]
        for cls in vars(directory_hub).values()
        if isinstance(cls, type) and issubclass(cls, Intent) and "type" in cls.model_fields
    }
    assert len(ours) == 9
    assert ours <= {b["type"] for b in blocks}
    for block in blocks:
        intent = WIRE.parse(json.dumps(block))
        assert intent.model_dump(exclude_none=True)["type"] == block["type"]
