"""F4 transfers the call in hand to the level-2 group of the dossier's track."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from telephony.line import LineEventKind
from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.ui.conftest import focus, open_desk, until

SCENARIO = (
    Path(__file__).resolve().parents[2] / "resources" / "training" / "douleur-thoracique.toml"
)


def test_f4_transfers_a_p1_call_to_the_amu_group(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    line = TrainingLine([parse_scenario(SCENARIO)], interval=0, give_up_after=0)
    seen: list[tuple[str, str]] = []
    line.subscribe(lambda ev: seen.append((str(ev.kind), ev.number)))

    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path, line)
        w = desk.window
        assert w is not None
        qtbot.addWidget(w)
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_F4)
        assert "Aucun appel" in w.message_label.text()
        line.ring()
        await until(w.call_bar.answer_button.isEnabled, "ringing")
        qtbot.keyClick(w, Qt.Key.Key_F2)
        await until(lambda: w.dossier_form.dossier is not None, "dossier opened")
        qtbot.keyClick(w, Qt.Key.Key_F4)
        assert "Qualifiez d'abord" in w.message_label.text()
        qtbot.keyClick(w, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
        qtbot.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: "F4" in w.message_label.text(), "transfer offered")
        qtbot.keyClick(w, Qt.Key.Key_F4)
        await until(lambda: (str(LineEventKind.TRANSFERRED), "n2-amu") in seen, "REFER sent")
        await until(lambda: not w.call_bar.hangup_button.isEnabled(), "call handed over")
        await desk.close()

    qloop.run_until_complete(scenario())
