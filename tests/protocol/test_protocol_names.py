"""One typed protocol: intent and event names live in the protocol module only, every
intent model has a name, every name a model, and the desk's messages round-trip
through the hub's own validation."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.flow import protocol as fp
from app.hub import protocol as p
from app.hub.events import EventName, event_message
from app.hub.service import HubService
from app.room import hub_wire, install_all

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks

ROOT = Path(__file__).resolve().parents[2]
#: The only modules that spell an intent or event name as a string.
PROTOCOL_MODULES = {ROOT / "app/hub/protocol.py", ROOT / "app/hub/events.py"}
#: Frozen migration code keeps the names as they were at its revision, on purpose.
FROZEN = ROOT / "app/db/migrations"
#: Dotted names only: "login", "ping"… are also plain words (a CSV column, a log line).
NAMES = {str(n) for n in p.IntentName if "." in n} | {str(n) for n in EventName}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def name_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in NAMES
            and id(node) not in docs
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


def test_no_intent_or_event_name_is_spelled_outside_the_protocol_module() -> None:
    found = []
    for folder in ("app", "ui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path not in PROTOCOL_MODULES and FROZEN not in path.parents:
                found.extend(name_literals(path))
    assert not found, "use IntentName / EventName (app.hub.protocol):\n" + "\n".join(found)


def test_the_check_sees_a_literal() -> None:
    """The scan above would catch a name typed as a string (it can fail)."""
    sample = ROOT / "tests/protocol/_names_sample.py"
    sample.write_text('"""doc"""\nKIND = "slot.booked"\n', encoding="utf-8")
    try:
        assert name_literals(sample) == ["tests/protocol/_names_sample.py:2: 'slot.booked'"]
    finally:
        sample.unlink()


def test_every_intent_name_has_exactly_one_model(sessions: sessionmaker[Session]) -> None:
    install_all(HubService(sessions))  # the extensions define their intents on import
    models = {p.intent_name(cls): cls for cls in WIRE.intents}
    assert len(models) == len(WIRE.intents), "two models share a name"
    assert set(models) == set(p.IntentName)
    for name, cls in models.items():
        assert WIRE.intent_class(name) is cls


def test_a_model_built_on_the_desk_is_what_the_hub_parses() -> None:
    # Built the way the desk builds it (HubClient.call): the model from plain fields.
    fields: dict[str, Any] = {
        "task_id": 3,
        "outcome": "RDV_CRENEAU",
        "appointment": {"with": "Dr Martin", "at": "2026-06-15T10:30:00+02:00"},
    }
    sent = fp.TaskClose(**fields)
    wire = sent.wire()
    assert wire["type"] == "task.close" and wire["appointment"]["with"] == "Dr Martin"
    import json

    parsed = WIRE.parse(json.dumps(wire))
    assert parsed == sent


def test_an_unknown_event_name_fails_where_the_message_is_built() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    msg = event_message(4, EventName.SLOT_BOOKED, at, "osnp", {"x": 1}, dossier={"id": 2})
    assert msg == {
        "type": "event",
        "seq": 4,
        "event": "slot.booked",
        "at": at.isoformat(),
        "actor": "osnp",
        "data": {"x": 1},
        "dossier": {"id": 2},
    }
    with pytest.raises(ValueError):
        event_message(5, "slot.exploded", at, None, {})
