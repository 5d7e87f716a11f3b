"""A ring the hub never heard of (the desk's link was down as the call rang) is told
again when the ARM answers: the hub takes ``call.answered`` only from a desk the call
rang, and the patient on the line must get a dossier."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.flow import protocol as p
from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.ui.conftest import focus, open_desk, until

SCENARIO = (
    Path(__file__).resolve().parents[2] / "resources" / "training" / "douleur-thoracique.toml"
)


def test_a_ring_lost_on_the_way_is_told_again_on_answer(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    line = TrainingLine([parse_scenario(SCENARIO)], interval=0, give_up_after=0)

    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path, line)
        w = desk.window
        assert w is not None and desk.controller is not None
        qtbot.addWidget(w)
        calls = desk.controller.calls
        hub = calls.hub
        real_send = hub.send
        lost: list[str] = []

        async def link_down_for_the_ring(intent: Any, *args: Any, **fields: Any) -> Any:
            if intent is p.CallOffered and not lost:
                lost.append(fields["call_ref"])  # as the bridge answers a dropped link
                hub.error.emit("pas de connexion au hub")
                return None
            return await real_send(intent, *args, **fields)

        hub.send = link_down_for_the_ring  # type: ignore[method-assign,assignment]
        await focus(desk)
        line.ring()
        await until(lambda: lost, "the ring's call.offered lost")
        qtbot.keyClick(w, Qt.Key.Key_F2)
        await until(
            lambda: w.dossier_form.dossier is not None,
            lambda: f"dossier opened (status line: {w.message_label.text()})",
        )
        opened = w.dossier_form.dossier
        assert opened is not None and calls.call_dossier[lost[0]] == opened["id"]
        await desk.close()

    qloop.run_until_complete(scenario())
