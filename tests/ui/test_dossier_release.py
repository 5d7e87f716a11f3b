""" "Remettre en file": the regulator who took a dossier puts it back in the queue for a
colleague (the button sent nothing before the controller split: its intent was built
and never run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from tests.ui.conftest import focus, open_desk, seed_territory, until


def test_a_taken_dossier_goes_back_to_the_queue(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    seed_territory(sessions, directory=False)

    async def scenario() -> None:
        n1 = await open_desk(hub_url, "n1", tmp_path)
        mrl = await open_desk(hub_url, "mrl", tmp_path)
        w = mrl.window
        assert n1.window is not None and w is not None and w.queue_model is not None
        queue = w.queue_model
        for desk in (n1, mrl):
            qtbot.addWidget(desk.window)
        await n1.client.request("call.offered", call_ref="rel-1", line="15", caller="0639980101")
        d = (await n1.client.request("call.answered", call_ref="rel-1"))["dossier"]
        fields = {"patient_last_name": "Morin", "patient_age": 3, "commune_insee": "17300",
                  "motif": "Fièvre 39,5 depuis hier"}  # fmt: skip
        await n1.client.request("dossier.update", dossier_id=d["id"], fields=fields)
        await n1.client.request("dossier.qualify", dossier_id=d["id"], priority="P2")
        await until(lambda: queue.rowCount() == 1, "dossier in the MRL's queue")

        await focus(mrl)
        qtbot.keyClick(w, Qt.Key.Key_F5)
        release = w.decision_form.release_button
        await until(lambda: release.isEnabled() and queue.rowCount() == 0, "taken")
        qtbot.mouseClick(release, Qt.MouseButton.LeftButton)
        await until(lambda: queue.rowCount() == 1, "back in the queue")
        row = queue.row_at(0)
        assert row is not None and row["id"] == d["id"] and not row.get("owner")
        # The queue's event may come before the release's reply, which says so.
        told = f"Dossier remis en file ({d['number']})"
        await until(lambda: w.message_label.text() == told, "the release told on the desk")
        assert w.dossier_form.dossier is None  # the desk is free for the next one
        await n1.close()
        await mrl.close()

    qloop.run_until_complete(scenario())
