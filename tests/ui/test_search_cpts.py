"""An OSNP's search for a patient in a commune shows that commune's CPTS first (from the
ROR: its SNP phone, F7 calls it), its participating doctors under it, then the list.
The window is grabbed into /tmp/shots/search-cpts.png (run under Xvfb with
QT_QPA_PLATFORM=xcb to see the real desk)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.ror import import_ror
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.ui.conftest import focus, open_desk, oriented_task, until
from ui.widgets.search_panel import KIND, PAYLOAD

DATA = Path(__file__).resolve().parents[1] / "directory" / "data"
SHOTS = Path("/tmp/shots")


def test_osnp_search_shows_the_patient_commune_cpts_first(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    mt: dict,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    # The ROR gives the CPTS La Rochelle its zone (the patient's 17300) and SNP phone.
    assert import_ror(sessions, DATA / "ror_cpts.json").committed
    oriented_task(service, people, f"Dr {mt['last_name']}")

    async def scenario() -> None:
        osnp = await open_desk(hub_url, "osnp", tmp_path)
        w = osnp.window
        assert w is not None and w.search_panel is not None and w.task_panel is not None
        qtbot.addWidget(w)
        tasks, panel = w.tasks_model, w.search_panel
        assert tasks is not None
        await until(lambda: tasks.rowCount() == 1, "task listed")
        w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
        w.task_panel.request_take()
        await until(lambda: w.dossier_form.dossier is not None, "dossier shown")
        await focus(osnp)
        qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: panel.model.rowCount() > 1, "search results")

        head = panel.model.item(0)
        assert head.data(KIND) == "cpts" and head.text() == "CPTS La Rochelle"
        last = panel.model.columnCount() - 1
        assert panel.model.item(0, last).text() == "0546000015"
        participants = [head.child(r).data(PAYLOAD) for r in range(head.rowCount())]
        assert participants and all(
            p["structure"] == "CPTS La Rochelle" and p["sas_participant"] for p in participants
        )
        assert panel.tree.isExpanded(head.index())
        second = panel.model.item(1)
        assert second.data(KIND) == "doctor" and mt["last_name"] in second.text()
        assert panel.model.item(1, 1).text() == "Médecin traitant"
        # What is searched first, then the commune's CPTS, then the counts.
        assert panel.summary.text().split(" · ")[:2] == [
            "Recherche : Médecin généraliste",
            "CPTS La Rochelle (tél. SNP 0546000015)",
        ]
        agenda = panel.model.headerData(last - 2, Qt.Orientation.Horizontal)
        assert agenda == "Agenda" and panel.model.item(1, last - 2).text()

        SHOTS.mkdir(parents=True, exist_ok=True)
        w.resize(1600, 1000)
        await until(lambda: w.width() == 1600, "window resized for the grab")
        assert w.grab().save(str(SHOTS / "search-cpts.png"))

        panel.tree.setFocus()
        panel.tree.setCurrentIndex(head.index())
        qtbot.keyClick(w, Qt.Key.Key_F7)  # no line in this test: the desk says whom
        await until(lambda: "0546000015" in w.message_label.text(), "the CPTS is called")
        assert "CPTS La Rochelle" in w.message_label.text()
        await osnp.close()

    qloop.run_until_complete(scenario())
