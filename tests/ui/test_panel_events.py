"""Each panel's controller reacts to the hub events it subscribed to by name, and only to
them: a dossier event moves the dossier lists, not the OSNP's task list or its call-back
plan; a call-back event asks the plan again; a slot or supervision event leaves the
dossiers alone. And every event the hub sends with a dossier (or a task) is one the
desk's lists follow."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel

from app.client.hub_client import HubClient
from app.domain.enums import Role
from app.domain.permissions import Granted
from app.hub.events import (
    CALLBACK_EVENTS,
    DOSSIER_EVENTS,
    SLOT_EVENTS,
    TASK_EVENTS,
    EventName,
    event_message,
)
from app.hub.protocol import IntentName
from ui.bridge import HubBridge
from ui.controller import DeskController
from ui.controllers.search import AGENDA_EVENTS
from ui.main_window import DeskWindow

ROOT = Path(__file__).resolve().parents[2]
MRL = {"id": 3, "username": "mrl", "name": "Dr MRL", "role": "MRL"}
OSNP = {"id": 4, "username": "osnp", "name": "OSNP", "role": "OSNP"}
AT = "2026-06-15T09:00:00+00:00"


def dossier(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": i,
        "number": f"D{i}",
        "status": "QUEUED",
        "queue": "SNP",
        "priority": "P2",
        "line": "15",
        "queued_at": AT,
        "answered_at": AT,
        "updated_at": AT,
        "owner": None,
        "opened_by_id": 1,
        "motif": "fièvre",
        **fields,
    }


def task(i: int, dossier_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": i,
        "dossier_id": dossier_id,
        "dossier_number": f"D{dossier_id}",
        "status": "IN_PROGRESS",
        "owner": {"id": OSNP["id"], "name": "OSNP"},
        "deadline_at": AT,
        "consultation_type": "cabinet",
        "patient": "Zoé",
        **fields,
    }


def event(
    name: EventName,
    *,
    d: dict[str, Any] | None = None,
    t: dict[str, Any] | None = None,
    **data: Any,
) -> dict[str, Any]:
    from datetime import datetime

    return event_message(1, name, datetime.fromisoformat(AT), "x", data, dossier=d, task=t)


class Changes:
    """Counts what a table model tells its views (rows in, out, moved, cells changed)."""

    def __init__(self, model: QAbstractItemModel):
        self.count = 0
        for signal in (
            model.dataChanged,
            model.rowsInserted,
            model.rowsRemoved,
            model.rowsMoved,
            model.modelReset,
        ):
            signal.connect(self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


@pytest.fixture
def desk(request: pytest.FixtureRequest, qloop: Any) -> Iterator[tuple[DeskWindow, DeskController]]:
    """A desk of this role on a hub it never reaches: events are handed to its bus."""
    user = request.param
    window = DeskWindow(user, training=False, granted=Granted.of(Role(user["role"])))
    hub = HubBridge(HubClient("ws://127.0.0.1:9", desk="test"))
    controller = DeskController(window, hub, None)
    yield window, controller
    window.close()
    window.deleteLater()
    hub.deleteLater()


@pytest.mark.parametrize("desk", [MRL, OSNP], indirect=True, ids=["mrl", "osnp"])
def test_each_panel_subscribes_by_name_to_the_events_it_shows(desk: Any) -> None:
    window, c = desk
    bus = c.bus
    assert bus.names(c.dossier) == DOSSIER_EVENTS
    assert bus.names(c.lists) == DOSSIER_EVENTS
    assert c.tasks is not None and bus.names(c.tasks) == TASK_EVENTS
    assert bus.names(c.calls) == set()
    search = [p for p in c.panels if type(p).__name__ == "SearchController"]
    # The slots' events, and a booking made at an editor's page (confirmed, late).
    assert [bus.names(p) for p in search] == [set(SLOT_EVENTS) | AGENDA_EVENTS]
    if window.callback_panel is not None:
        assert c.callback is not None and bus.names(c.callback) == {EventName.CALLBACK_REMINDER}
        assert bus.names(window.callback_panel) == CALLBACK_EVENTS
    # Each shortcut has one QAction on the window (two would make its key ambiguous).
    names = [a.objectName() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(names) == len(set(names)), sorted(names)
    assert {"answer", "take_next", "close_current", "validate", "priority_p2"} <= set(names)
    # The window keeps only its own (focus, help, set-up); the panels' are their controllers'.
    own = {
        a.objectName()
        for a in window.actions()
        if a.parent() is window and not a.shortcut().isEmpty()
    }
    assert own == {"focus_list", "focus_dossier", "focus_decision", "show_help", "open_wizard"}
    assert {"search_slots", "call_doctor", "refresh_agendas"} <= set(names)


@pytest.mark.parametrize("desk", [MRL], indirect=True, ids=["mrl"])
def test_a_dossier_event_moves_the_lists_and_nothing_else(desk: Any) -> None:
    window, c = desk
    queued, decided = dossier(1), dossier(2, status="DECIDED", queue=None)
    c.on_snapshot({"dossiers": [queued, decided], "tasks": [task(10, 2)]})
    assert window.queue_model.rowCount() == 1 and window.tasks_model.rowCount() == 1
    in_queue, in_tasks = Changes(window.queue_model), Changes(window.tasks_model)

    c.bus.publish(event(EventName.DOSSIER_UPDATED, d={**queued, "motif": "toux"}))
    assert window.queue_model.row_at(0)["motif"] == "toux"
    assert c.dossier.dossiers[1]["motif"] == "toux"
    assert in_queue.count == 1 and in_tasks.count == 0  # the task list did not move

    c.bus.publish(event(EventName.TASK_TAKEN, d=decided, t=task(10, 2, patient="Léo")))
    assert window.tasks_model.row_at(0)["patient"] == "Léo"
    assert in_queue.count == 1 and in_tasks.count == 1  # a decided dossier is in no queue

    known = dict(c.dossier.dossiers)
    for name in (EventName.SLOT_BOOKED, EventName.DESK_STATE, EventName.AGENDA_CHANGED):
        c.bus.publish(event(name, booking={"effecteur_id": 5}, state="READY"))
    assert in_queue.count == 1 and in_tasks.count == 1
    assert c.dossier.dossiers == known


@pytest.mark.parametrize("desk", [OSNP], indirect=True, ids=["osnp"])
def test_only_call_back_events_reach_the_call_back_plan(desk: Any) -> None:
    window, c = desk
    panel = window.callback_panel
    assert panel is not None and c.callback is not None
    searched = task(10, 2)
    c.on_snapshot({"dossiers": [dossier(2, status="DECIDED", queue=None)], "tasks": [searched]})
    asked: list[str] = []
    panel.intent_requested.disconnect()  # what the panel asks, not sent to the (absent) hub
    panel.intent_requested.connect(lambda kind, _payload: asked.append(kind))
    panel.open_task(searched)
    asked.clear()

    d = dossier(2, status="DECIDED", queue=None, motif="toux")
    c.bus.publish(event(EventName.DOSSIER_UPDATED, d=d, t=searched, fields=["motif"]))
    c.bus.publish(event(EventName.TASK_TAKEN, d=d, t=searched))
    assert asked == []  # the plan is not asked again for a dossier's own events

    # Another desk's attempt: the target as it now stands is in the event, applied to
    # the plan without asking for it again (it used to be asked for at every event).
    retry = target_row(7, status="RETRY")
    c.bus.publish(event(EventName.CALLBACK_ATTEMPT, d=d, t=searched, **attempt(retry)))
    assert asked == []
    assert [(r["id"], r["status"]) for r in panel.model.rows] == [(7, "RETRY")]
    # A plan built again (its event carries no plan): asked for.
    c.bus.publish(event(EventName.CALLBACK_PLAN_BUILT, d=d, t=searched, targets=1,
                        rebuild=True, kinds=["MT"], notes=[]))  # fmt: skip
    assert asked == [IntentName.CALLBACK_PLAN]

    c.bus.publish(event(EventName.CALLBACK_REMINDER, d=d, t=searched, **reminder("Dr Martin")))
    assert "Rappel prévu maintenant : Dr Martin (Zoé)" in window.message_label.text()


def target_row(target_id: int, **fields: Any) -> dict[str, Any]:
    """A call-back target as app.callback.views.target_view gives it."""
    return {
        "id": target_id, "task_id": 10, "position": 1, "kind": "MT", "kind_label": "MT",
        "status": "TO_CALL", "status_label": "", "effecteur_id": None, "name": "Dr Martin",
        "phone_direct": "0600000000", "phone_secretary": "", "place": "", "conditions": "",
        "slot_id": None, "slot_start": None, "slot_type": None, "distance_km": None,
        "why": "", "skip_reason": "", "retry_at": None, "added_by_id": None, **fields,
    }  # fmt: skip


def attempt(target: dict[str, Any]) -> dict[str, Any]:
    """``callback.attempt``'s data (app.callback.protocol.AttemptData)."""
    return {
        "attempt_id": 1, "target_id": target["id"], "target_kind": target["kind"],
        "target_name": target["name"], "effecteur_id": None, "call_ref": None,
        "result": "NO_ANSWER", "refusal_reason": None, "call_back_at": None,
        "retry_at": None, "number": target["phone_direct"], "duration_seconds": None,
        "recording_path": None, "target": target,
    }  # fmt: skip


def reminder(name: str) -> dict[str, Any]:
    """``callback.reminder``'s data (app.callback.protocol.ReminderData)."""
    return {"reminder_id": 1, "target_id": None, "target": name, "phone": "",
            "due_at": AT, "late_seconds": 0.0, "message": f"Rappeler {name}"}  # fmt: skip


def _emitted(path: Path) -> Iterator[tuple[str, set[str]]]:
    """(event name, keywords) of every event the hub module ``path`` emits."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute):
            called = node.func.attr
        elif isinstance(node.func, ast.Name):
            called = node.func.id  # app.hub.dossiers.dossier_event, imported by name
        else:
            continue
        names = [
            a.attr
            for a in node.args
            if isinstance(a, ast.Attribute) and getattr(a.value, "id", "") == "EventName"
        ]
        if called == "emit" and names:
            yield names[0], {k.arg for k in node.keywords if k.arg}
        elif called == "dossier_event" and names:  # always with its dossier
            yield names[0], {"dossier"} | {k.arg for k in node.keywords if k.arg}


def test_every_event_sent_with_a_dossier_or_a_task_is_followed_by_the_desk() -> None:
    seen = 0
    for path in sorted((ROOT / "app").rglob("*.py")):
        for name, keywords in _emitted(path):
            seen += 1
            if "dossier" in keywords:
                assert EventName[name] in DOSSIER_EVENTS, f"{path.name}: {name} has a dossier"
            if "task" in keywords:
                assert EventName[name] in TASK_EVENTS, f"{path.name}: {name} has a task"
    assert seen > 30  # the scan found the hub's emitters
