"""The documentation says what the code does: every intent, every shortcut."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from app.hub.service import HubService
from app.room import hub_wire, install_all

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"


def json_blocks(text: str) -> list[dict[str, object]]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def test_every_documented_intent_example_is_valid() -> None:
    install_all(HubService(sessionmaker()))  # the extensions install without a database
    known = WIRE.names
    examples = [
        b for b in json_blocks(PROTOCOL.read_text(encoding="utf-8")) if b.get("type") in known
    ]
    assert len(examples) >= 20
    for example in examples:
        WIRE.parse(json.dumps(example))  # raises ProtocolError naming the problem


def test_every_intent_is_documented_with_an_example() -> None:
    install_all(HubService(sessionmaker()))  # the extensions install without a database
    documented = {b.get("type") for b in json_blocks(PROTOCOL.read_text(encoding="utf-8"))}
    missing = sorted(WIRE.names - documented)
    assert not missing, f"intents without an example in docs/protocol.md: {missing}"


def test_shortcuts_doc_lists_every_key() -> None:
    text = (ROOT / "docs" / "shortcuts.md").read_text(encoding="utf-8")
    source = (ROOT / "ui" / "shortcuts.py").read_text(encoding="utf-8")
    keys = re.findall(r'Shortcut\("([^"]+)"', source)
    for key in keys:
        shown = key.replace("Return", "Entrée")
        if key.startswith("Alt+") and key[-1].isdigit():
            shown = "Alt+0 … Alt+3"
        if key.startswith("Ctrl+") and key[-1] in "123":
            shown = "Ctrl+1 / Ctrl+2 / Ctrl+3"
        assert shown in text, f"{key} is not in docs/shortcuts.md"
