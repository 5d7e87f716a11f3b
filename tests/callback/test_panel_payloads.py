"""The call-back panel applies the events' payloads instead of asking for the plan again:
an attempt, a skip or a new order sends one intent from the desk that made it and none
from another panel showing the same task, which ends up showing what the first shows; a
plan built is asked for only by a panel that does not show it already (its event names
the plan's targets). Every call-back event used to make each panel showing the task send
``callback.plan``, the panel that built the plan included."""

from __future__ import annotations

import os
from typing import Any, cast

import pytest
from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402

from app.callback.vocab import AttemptResult  # noqa: E402
from app.hub.payloads import EventMessage  # noqa: E402
from app.hub.protocol import IntentName  # noqa: E402
from tests.callback.conftest import Desks, Territory, osnp_task  # noqa: E402
from ui.widgets.callback_panel import CallbackPanel  # noqa: E402


def shown(panel: CallbackPanel) -> list[tuple[int, str, str]]:
    return [(r["id"], r["kind"], r["status"]) for r in panel.model.rows]


def test_events_change_the_plan_without_asking_for_it_again(
    qtbot: QtBot, desks: Desks, territory: Territory
) -> None:
    task_id = osnp_task(desks, "Dr Claire Vasseur", patient_first_name="Zoé")
    task = {"id": task_id, "patient": "Zoé Morin", "patient_age": 3, "motif": "fièvre"}
    mine, other = CallbackPanel(), CallbackPanel()
    panels = (mine, other)
    sent: dict[CallbackPanel, list[str]] = {mine: [], other: []}

    def wire(panel: CallbackPanel) -> None:
        def send(type_: str, payload: dict[str, Any]) -> None:
            sent[panel].append(type_)
            reply = desks.osnp.send(type_, **payload)
            events = [cast(EventMessage, out.message) for out in desks.osnp.emitted]
            panel.apply_reply(type_, reply)  # may send (the next target's script)
            for event in events:  # both desks follow the task: both get its events
                for each in panels:
                    each.on_event(event)

        panel.intent_requested.connect(send)

    for panel in panels:
        qtbot.addWidget(panel)
        wire(panel)
    # The plan is built by the first panel's callback.plan: its reply carries it, and the
    # event names its targets, which that panel already shows; the other panel, showing
    # no plan yet, asks for it.
    mine.open_task(task)
    assert sent[mine].count(IntentName.CALLBACK_PLAN) == 1, sent[mine]
    assert sent[other] == []  # showing another task (none): the event is not its own
    other.open_task(task)
    assert shown(mine) == shown(other) and len(shown(mine)) >= 3
    for panel in panels:
        sent[panel].clear()

    mine.select_target(next(r["id"] for r in mine.model.rows if r["kind"] == "MT"))
    qtbot.mouseClick(mine.result_buttons[AttemptResult.NO_ANSWER], Qt.MouseButton.LeftButton)
    # The desk that noted it: the attempt, then the next target's script; no plan.
    assert [x for x in sent[mine] if x != IntentName.CALLBACK_SCRIPT] == [
        IntentName.CALLBACK_ATTEMPT
    ]
    assert sent[other] == []  # was: callback.plan
    assert ("MT", "RETRY") in [(k, s) for _, k, s in shown(other)]
    assert shown(other) == shown(mine)

    colleague = next(r for r in mine.model.rows if r["kind"] == "CONFRERE")
    mine.select_target(colleague["id"])
    mine.skip_reason.setText("en congés selon le secrétariat")
    qtbot.mouseClick(mine.skip_button, Qt.MouseButton.LeftButton)
    assert [x for x in sent[mine] if x != IntentName.CALLBACK_SCRIPT] == [
        IntentName.CALLBACK_ATTEMPT,
        IntentName.CALLBACK_TARGET_SKIP,
    ]
    assert sent[other] == []
    assert (colleague["id"], "CONFRERE", "SKIPPED") in shown(other)
    assert shown(other) == shown(mine)

    order = [r["id"] for r in reversed(mine.model.rows)]
    mine.intent_requested.emit(
        IntentName.CALLBACK_PLAN_REORDER, {"task_id": task_id, "order": order}
    )
    assert IntentName.CALLBACK_PLAN not in sent[mine] and sent[other] == []
    assert [i for i, _, _ in shown(other)] == [i for i, _, _ in shown(mine)]
    # Built again from the first panel: the other panel's rows differ from the plan's
    # targets (the untouched suggestions are dropped and found again): it asks, once.
    mine.intent_requested.emit(IntentName.CALLBACK_PLAN, {"task_id": task_id, "rebuild": True})
    assert sent[other].count(IntentName.CALLBACK_PLAN) == 1
    assert sent[mine].count(IntentName.CALLBACK_PLAN) == 1  # its own reply, not asked again
    assert shown(other) == shown(mine)
    plan = desks.osnp.send(IntentName.CALLBACK_PLAN, task_id=task_id)["plan"]
    assert [i for i, _, _ in shown(other)] == [t["id"] for t in plan["targets"]]
    assert [s for _, _, s in shown(other)] == [t["status"] for t in plan["targets"]]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
