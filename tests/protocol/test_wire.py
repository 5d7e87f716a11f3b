"""The wire layer: intents are registered explicitly in a Wire, their name given once.

A model defined somewhere is not, by being defined, part of what a hub accepts (it used
to be: every subclass of Intent was found by walking ``__subclasses__``); the desk's
wire and the hub's speak the same intents; a message is what it was on the wire.
"""

from __future__ import annotations

import json

import pytest

from app.callback.protocol import CallbackPlan
from app.client.wire import DESK_WIRE
from app.flow.protocol import TaskTake
from app.hub import protocol as p
from app.room import hub_wire


class Impostor(p.Intent, name=p.IntentName.PING):
    """Defined here and never registered: no wire knows it."""

    note: str = ""


def test_a_defined_but_unregistered_intent_is_refused() -> None:
    session_only = p.Wire(p.SESSION_INTENTS)
    assert session_only.intent_class("ping") is p.Ping  # not the impostor defined later
    with pytest.raises(p.ProtocolError) as err:
        session_only.parse(json.dumps({"type": "callback.plan", "task_id": 3}))
    assert err.value.code == "unknown_type"
    assert hub_wire().parse(json.dumps({"type": "callback.plan", "task_id": 3})) == CallbackPlan(
        task_id=3
    )


def test_two_models_for_one_name_are_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="ping: two models"):
        p.Wire(p.SESSION_INTENTS, (Impostor,))


def test_the_name_is_given_once() -> None:
    with pytest.raises(TypeError, match="given once"):

        class Twice(p.Intent, name=p.IntentName.PING):  # noqa: F841 (refused at definition)
            type: str = "ping"


def test_the_class_keyword_makes_the_same_message_as_the_spelled_out_field() -> None:
    assert CallbackPlan(task_id=3).wire() == {
        "type": "callback.plan",
        "task_id": 3,
        "rebuild": False,
    }
    assert list(CallbackPlan.model_fields)[:2] == ["id", "type"]
    assert p.intent_name(CallbackPlan) == p.IntentName.CALLBACK_PLAN
    assert TaskTake(task_id=2).wire() == {"type": "task.take", "task_id": 2}
    # An intent without fields is its type alone on the wire.
    assert p.Ping().wire() == {"type": "ping"}


def test_the_desk_and_the_hub_speak_the_same_intents() -> None:
    hub = hub_wire()
    assert DESK_WIRE.names == hub.names == {str(n) for n in p.IntentName}
    for name in hub.names:
        assert DESK_WIRE.intent_class(name) is hub.intent_class(name)
