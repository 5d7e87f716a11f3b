"""Every reply and every event's ``data`` has its TypedDict, registered with the wire by
its protocol module; docs/protocol.md's examples of replies and events validate against
them (pydantic's TypeAdapter), so the docs, the hub and the desk agree on the shapes."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any, NotRequired, get_origin, get_type_hints

import pytest
from pydantic import TypeAdapter

from app.client.wire import DESK_WIRE
from app.hub import payloads
from app.hub.events import EventName
from app.room import hub_wire

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "protocol.md"
HUB = hub_wire()


def test_every_event_and_every_intent_has_its_type() -> None:
    assert set(DESK_WIRE.events) == {str(n) for n in EventName}
    assert set(DESK_WIRE.replies) == DESK_WIRE.names
    # The hub's wire registers the same types as the desk's: one table, both sides.
    assert HUB.names == DESK_WIRE.names
    assert HUB.replies == DESK_WIRE.replies
    assert HUB.events == DESK_WIRE.events


def test_a_name_given_two_types_is_refused() -> None:
    with pytest.raises(ValueError, match="two event types"):
        type(DESK_WIRE)(
            events=(
                {EventName.DESK_STATE: payloads.LoginLocked},
                {EventName.DESK_STATE: payloads.PscFallback},
            )
        )


def _messages(text: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON examples in document order: the ```json blocks and the replies written
    inline (``Reply `{"type": "ok", …}` ``), with their offset."""
    found = [
        (m.start(), json.loads(m.group(1))) for m in re.finditer(r"```json\n(.*?)```", text, re.S)
    ]
    for m in re.finditer(r"`(\{\"type\": \"ok\".*?\})`", text, re.S):
        try:
            found.append((m.start(), json.loads(m.group(1).replace("\n", " "))))
        except json.JSONDecodeError:
            continue  # prose with an ellipsis standing for a part: not an example
    return sorted(found, key=lambda x: x[0])


def _check(kind: type, value: object, where: str) -> None:
    TypeAdapter(kind).validate_python(value, strict=False)
    if isinstance(value, dict):  # and nothing the type does not name
        extra = set(value) - set(get_type_hints(kind))
        assert not extra, f"{where}: {sorted(extra)} not in {kind.__name__}"


def test_documented_events_and_replies_validate_against_their_types() -> None:
    asked: dict[object, str] = {}  # request id -> intent, as the docs' examples go
    checked = {"event": 0, "reply": 0, "view": 0}
    for _, msg in _messages(DOCS.read_text(encoding="utf-8")):
        kind = msg.get("type")
        if kind in DESK_WIRE.names:
            asked[msg.get("id")] = str(kind)
        elif kind == "event":
            name = msg["event"]
            _check(DESK_WIRE.events[name], msg["data"], name)
            for part, view in (
                ("dossier", payloads.DossierView),
                ("task", payloads.TaskView),
                ("call", payloads.CallView),
            ):
                if part in msg:
                    _check(view, msg[part], f"{name}.{part}")
            checked["event"] += 1
        elif kind == "ok":
            intent = asked[msg["re"]]
            body = {k: v for k, v in msg.items() if k not in ("type", "re")}
            _check(DESK_WIRE.replies[intent], body, f"reply to {intent}")
            checked["reply"] += 1
        elif kind == "welcome":
            _check(payloads.Welcome, msg, "welcome")
            checked["view"] += 1
        elif kind == "snapshot":
            _check(payloads.Snapshot, msg, "snapshot")
            checked["view"] += 1
        elif kind is None and "number" in msg:  # the dossier as the hub shows it
            _check(payloads.DossierView, msg, "dossier")
            checked["view"] += 1
    assert checked["event"] >= 5 and checked["reply"] >= 4 and checked["view"] == 3, checked


def test_a_payload_that_strays_from_its_type_fails_the_check() -> None:
    data = {"appointment_id": 3, "from_status": "booked", "status": "honoured"}
    kind = DESK_WIRE.events[EventName.CALLBACK_APPOINTMENT_STATUS]
    with pytest.raises(ValueError):  # outcome and note missing
        _check(kind, data, "callback.appointment_status")
    with pytest.raises(AssertionError, match="colour"):
        _check(kind, {**data, "outcome": "RDV", "note": "", "colour": "red"}, "x")


#: The hub's helpers that emit an event: the keywords that are not its ``data``.
EMITTERS = {
    "emit": {"dossier", "task", "call"},
    "dossier_event": {"before", "task"},
    "_emit": set(),  # app.interop.hubsante.inbox: the dossier is positional
    "_requeue": set(),  # app.flow.handlers: adds ``queue`` itself
}
ADDED = {"_requeue": {"queue"}}


def required(kind: type) -> set[str]:
    """The keys a TypedDict requires (``__required_keys__`` does not see ``NotRequired``
    in the string annotations ``from __future__ import annotations`` leaves)."""
    hints = get_type_hints(kind, include_extras=True)
    return {k for k, v in hints.items() if get_origin(v) is not NotRequired}


def _emits(path: Path) -> list[tuple[int, str, set[str], bool]]:
    """(line, event, data keywords, whether it spreads more) of each event a module emits."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        names = [
            a.attr
            for a in node.args
            if isinstance(a, ast.Attribute) and getattr(a.value, "id", "") == "EventName"
        ]
        if called not in EMITTERS or not names:
            continue
        keys = {k.arg for k in node.keywords if k.arg} - EMITTERS[called]
        spread = any(k.arg is None for k in node.keywords)
        found.append((node.lineno, names[0], keys | ADDED.get(called, set()), spread))
    return found


def test_the_hub_emits_each_event_with_the_data_its_type_declares() -> None:
    """mypy does not see through ``u.emit(name, audience, **data)``: the keywords of each
    emitting call are checked against the event's TypedDict (none it does not declare;
    every one it requires, unless the call spreads a dict)."""
    seen = 0
    for path in sorted((ROOT / "app").rglob("*.py")):
        if "bench" in path.parts:
            continue
        for line, name, keys, spread in _emits(path):
            seen += 1
            kind = DESK_WIRE.events[EventName[name]]
            where = f"{path.relative_to(ROOT)}:{line} {name}"
            declared = set(get_type_hints(kind))
            assert keys <= declared, f"{where}: {sorted(keys - declared)} not in {kind.__name__}"
            if not spread:
                missing = required(kind) - keys
                assert not missing, f"{where}: {sorted(missing)} missing ({kind.__name__})"
    assert seen > 40
