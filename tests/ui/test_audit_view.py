"""The supervisor's "Accès aux dossiers" tab shows who read a dossier, and refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_desk, until


def test_supervisor_sees_who_read_a_dossier(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        n1 = await open_desk(hub_url, "n1", tmp_path)
        n1b = await open_desk(hub_url, "n1b", tmp_path)
        await n1.client.request("call.offered", call_ref="a-1", line="15", caller="0600000001")
        dossier = (await n1.client.request("call.answered", call_ref="a-1"))["dossier"]
        await n1.client.request("dossier.get", dossier_id=dossier["id"])
        await n1b.hub.send("dossier.get", dossier_id=dossier["id"])  # not N1b's: refused
        sup = await open_desk(hub_url, "sup", tmp_path)
        assert sup.window is not None and sup.window.audit is not None
        for desk in (n1, n1b, sup):
            assert desk.window is not None
            qtbot.addWidget(desk.window)
        view = sup.window.audit
        tabs = sup.window.findChild(QTabWidget, "lists")
        assert tabs is not None and tabs.tabText(tabs.indexOf(view)) == "Accès aux dossiers"
        await until(lambda: view.model.rowCount() == 2, "the trail shown on opening")
        view.dossier.setText(dossier["number"])
        view.refused.setChecked(True)
        qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
        await until(lambda: view.model.rowCount() == 1, "only the refusal")
        row = [view.model.item(0, c).text() for c in range(view.model.columnCount())]
        assert row[1:] == [
            "n1b",
            "ARM_N1",
            "n1b",
            dossier["number"],
            "consultation du dossier et de sa chronologie",
            "REFUSÉE",
        ]
        assert view.status.text() == "1 lecture(s)"
        for desk in (n1, n1b, sup):
            await desk.close()

    qloop.run_until_complete(scenario())
