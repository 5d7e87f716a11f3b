"""The call-back panel docked in the OSNP's desk: plan, dial through the line, outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.flow.service import FlowService
from app.hub.auth import Principal
from telephony.training import TrainingLine
from tests.ui.conftest import open_desk, oriented_task, until


def test_osnp_takes_a_task_dials_the_treating_doctor_and_records_no_answer(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    mt: dict,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    oriented_task(service, people, f"Dr {mt['first_name']} {mt['last_name']}")
    line = TrainingLine([], interval=0, answer_delay=0.2)

    async def scenario() -> None:
        desk = await open_desk(hub_url, "osnp", tmp_path, line)
        w = desk.window
        assert w is not None and w.callback_panel is not None and w.task_panel is not None
        qtbot.addWidget(w)
        panel = w.callback_panel
        tasks = w.tasks_model
        assert tasks is not None
        await until(lambda: tasks.rowCount() == 1, "task listed")
        w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
        w.task_panel.request_take()
        await until(lambda: panel.model.rowCount() > 0, "the plan is shown")
        first = panel.model.row_at(0)
        assert first is not None and mt["last_name"] in first["name"], "the MT comes first"
        assert panel.current_target() is not None

        panel.call_direct.click()  # dials through the desk's line
        await until(lambda: w.call_bar.hangup_button.isEnabled(), "outgoing call")
        await until(lambda: "En ligne" in w.call_bar.timer_label.text(), "the doctor answers")
        w.trigger("hangup")
        await until(lambda: not w.call_bar.hangup_button.isEnabled(), "hung up")
        target = panel.current_target()
        assert target is not None and panel.call_facts.get(target["id"]), "call attached"
        panel.result_buttons[next(r for r in panel.result_buttons if r == "NO_ANSWER")].click()

        def status_changed() -> bool:
            row = panel.model.row_at(panel.model.position(target["id"]) or 0)
            return row is not None and row["status"] != "TO_CALL"

        await until(status_changed, "the plan shows the attempt and its retry")
        await desk.close()

    qloop.run_until_complete(scenario())
