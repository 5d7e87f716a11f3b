"""The supervisor's live view follows the room from events: calls, desks, dossiers, tasks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtGui import QStandardItemModel
from pytestqt.qtbot import QtBot

from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.ui.conftest import open_desk, until

SCENARIO = Path(__file__).resolve().parents[2] / "resources" / "training" / "lombalgie.toml"


def cell(model: QStandardItemModel, row: int, col: int) -> str:
    item = model.item(row, col)
    assert item is not None, (row, col)
    return str(item.text())


def test_supervisor_sees_calls_desks_and_queues_live(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    line = TrainingLine([parse_scenario(SCENARIO)], interval=0, give_up_after=0)

    async def scenario() -> None:
        sup = await open_desk(hub_url, "sup", tmp_path)
        n1 = await open_desk(hub_url, "n1", tmp_path, line)
        assert sup.window and n1.window and sup.window.supervision
        view, form = sup.window.supervision, n1.window.dossier_form
        for w in (sup.window, n1.window):
            qtbot.addWidget(w)

        call_id = line.ring()
        await until(lambda: view.calls.rowCount() == 1, "ringing call counted")
        assert cell(view.calls, 0, 2) == "1" and cell(view.calls, 0, 1) == "N1"

        n1.window.call_bar.agent_state_requested.emit("PAUSED", "formation")
        await until(lambda: "En pause 1" in view.desks.text(), "paused desk")

        line.answer(call_id)
        await until(lambda: form.dossier is not None, "dossier opened")
        await until(lambda: view.calls.rowCount() == 0, "answered call no longer waiting")
        form.choose_priority("P2")
        form.request_qualify()
        await until(lambda: view.dossiers.rowCount() == 1, "dossier waiting in the SNP queue")
        assert cell(view.dossiers, 0, 1) == "Régulation libérale"
        assert cell(view.dossiers, 0, 2) == "P2"
        for desk in (sup, n1):
            await desk.close()

    qloop.run_until_complete(scenario())
