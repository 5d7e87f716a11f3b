"""On ring the call bar shows the caller's earlier dossiers (count, last one, frequent
caller); Ctrl+H lists them, Ctrl+J attaches the new dossier to that patient, Ctrl+Shift+F
searches dossiers — all through the hub."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.recordings.helpers import logged
from tests.ui.conftest import focus, open_desk, type_text, until

SCENARIO = (
    Path(__file__).resolve().parents[2] / "resources" / "training" / "douleur-thoracique.toml"
)
CALLER = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))["caller"]


def test_ring_shows_the_history_ctrl_h_lists_it_ctrl_j_links_the_patient(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    line = TrainingLine([parse_scenario(SCENARIO)], interval=0, give_up_after=0)

    async def scenario() -> None:
        other = await logged(hub_url, "n1b")
        earlier = []
        for n in range(3):
            await other.request("call.offered", call_ref=f"old-{n}", line="15", caller=CALLER)
            d = (await other.request("call.answered", call_ref=f"old-{n}"))["dossier"]
            await other.request("dossier.update", dossier_id=d["id"],
                                fields={"patient_last_name": "Lemaire",
                                        "patient_first_name": "Paul"})  # fmt: skip
            await other.request("dossier.qualify", dossier_id=d["id"], priority="P3")
            await other.request("dossier.close", dossier_id=d["id"], reason="conseil")
            earlier.append(d)
        desk = await open_desk(hub_url, "n1", tmp_path, line)
        w = desk.window
        assert w is not None and desk.controller is not None
        history = desk.controller.history
        qtbot.addWidget(w)
        await focus(desk)
        line.ring()
        await until(lambda: "3 dossiers en 30 j" in history.label.text(),
                    lambda: history.label.text())  # fmt: skip
        assert history.label.isVisible()
        assert "Appelant fréquent" in history.label.text() and "P3" in history.label.text()
        assert earlier[-1]["number"] in history.label.toolTip()
        qtbot.keyClick(w, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
        dialog = await until(
            lambda: history.dialog if history.dialog and history.dialog.isVisible() else None,
            "list",
        )
        table = dialog.table
        await until(lambda: table.rowCount() == 3, "three rows")
        newest, patient = table.item(0, 1), table.item(0, 4)
        assert newest is not None and patient is not None
        assert newest.text() == earlier[-1]["number"]  # newest first
        assert patient.toolTip() == "LEMAIRE Paul"
        dialog.close()
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_F2)
        await until(lambda: w.dossier_form.dossier is not None, "dossier opened")
        qtbot.keyClick(w, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: "rattaché" in w.message_label.text(), lambda: w.message_label.text())
        assert history.linked["same_patient_as"] == earlier[-1]["id"]
        assert "patient_last_name" in history.linked["fields"]
        # The search finds the three and the new one (now named like them).
        qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
        await until(lambda: history.search_dialog is not None
                     and history.search_dialog.isVisible(), "search")  # fmt: skip
        search = history.search_dialog
        assert search is not None
        type_text(search.name, "lema")
        search.submit()
        await until(lambda: search.table.rowCount() == 4, lambda: search.heading.text())
        await other.close()
        await desk.close()

    qloop.run_until_complete(scenario())
