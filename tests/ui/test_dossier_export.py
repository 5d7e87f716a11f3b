"""Ctrl+E on a desk: the open dossier exported as its RS-EDA message (valid against the
Hub Santé's schemas) into the desk's export folder; nothing without a dossier."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.interop.hubsante import messages
from tests.recordings.helpers import answered_call, logged
from tests.ui.conftest import focus, open_desk, until


def test_ctrl_e_exports_the_open_dossier(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        n1 = await logged(hub_url, "n1")
        dossier = await answered_call(n1, "qt-export@room")
        await n1.close()
        desk = await open_desk(hub_url, "sup", tmp_path / "sup", None)
        w = desk.window
        assert w is not None and desk.controller is not None
        qtbot.addWidget(w)
        desk.controller.exporter.folder = tmp_path / "exports"
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert "Ouvrez d'abord" in w.message_label.text()
        controller = desk.controller
        controller.dossier.open(int(dossier["id"]), fetch=True)
        await until(lambda: controller.dossier.current_id is not None, "dossier open")
        qtbot.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: "Dossier exporté" in w.message_label.text(), "exported")
        written = desk.controller.exporter.written
        assert [p.name for p in written] == [f"dossier-{dossier['number']}-rs-eda.json"]
        envelope = json.loads(written[0].read_text(encoding="utf-8"))
        assert messages.problems(envelope) == []
        await desk.close()

    Path(tmp_path / "sup").mkdir()
    qloop.run_until_complete(scenario())
