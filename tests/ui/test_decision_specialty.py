"""The MRL's decision names a paediatrician; the OSNP's search, from the task, follows it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPainter, QStandardItem
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import OsnpTask
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.ui.conftest import child_fever, focus, open_desk, until
from tests.ui.test_three_desks import set_combo
from ui.widgets.search_panel import KIND, SearchPanel


def first_doctor(panel: SearchPanel) -> QStandardItem:
    """The first doctor row (the commune's CPTS, when it has one, comes before)."""
    rows = (panel.model.item(r) for r in range(panel.model.rowCount()))
    return next(item for item in rows if item.data(KIND) == "doctor")


def test_the_mrl_asks_for_a_paediatrician_and_the_osnp_search_shows_them_first(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    territory: dict,  # La Rochelle: GPs, and paediatricians
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    child_fever(service, people, "Dr Moinard")  # the MT: a GP of La Rochelle

    async def scenario() -> None:
        mrl = await open_desk(hub_url, "mrl", tmp_path)
        w2 = mrl.window
        assert w2 is not None
        qtbot.addWidget(w2)
        queue = w2.queue_model
        assert queue is not None
        await until(lambda: queue.rowCount() == 1, "dossier in the MRL's queue")
        await focus(mrl)
        qtbot.keyClick(w2, Qt.Key.Key_F5)
        await until(lambda: w2.decision_form.isEnabled(), "MRL holds the dossier")
        form = w2.decision_form
        assert not form.wanted.isEnabled()  # only a consultation names a professional
        set_combo(form.decision, "ORIENT")
        set_combo(form.care_level, "R3")
        set_combo(form.filiere, "SNP")
        set_combo(form.orientation, "CONSULTATION_48H")
        set_combo(form.consultation, "cabinet")
        assert form.wanted.isEnabled() and form.wanted.currentText() == "Médecin généraliste"
        assert "specialty" not in form.fields()  # the default changes nothing
        form.wanted.setFocus()
        qtbot.keyClicks(form.wanted, "P")  # typed, as a keyboard user picks
        assert form.wanted.currentText() == "Pédiatre"
        assert (form.fields()["profession"], form.fields()["specialty"]) == ("10", "SM40")
        shots = os.environ.get("SASDESK_SHOTS")
        if shots:  # looked at by hand, under Xvfb: the picker open over the MRL's desk
            form.wanted.showPopup()
            await until(lambda: form.wanted.view().isVisible(), "picker open")
            # The desk with the open list drawn over it where it stands on the screen (a
            # read of the X screen may come before the window's last paint reached it).
            picture = w2.grab()
            popup = form.wanted.view().window()
            painter = QPainter(picture)
            painter.drawPixmap(
                popup.mapToGlobal(QPoint(0, 0)) - w2.mapToGlobal(QPoint(0, 0)), popup.grab()
            )
            painter.end()
            picture.save(str(Path(shots) / "decision_form_specialty.png"))
            form.wanted.hidePopup()
            form.grab().save(str(Path(shots) / "decision_form.png"))
        qtbot.keyClick(w2, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: w2.dossier_form.dossier is None, "decided: the MRL is free")

        osnp = await open_desk(hub_url, "osnp", tmp_path)
        w3 = osnp.window
        assert w3 is not None
        qtbot.addWidget(w3)
        tasks, task_panel = w3.tasks_model, w3.task_panel
        assert tasks is not None and task_panel is not None
        await until(lambda: tasks.rowCount() == 1, "task on the OSNP desk")
        task_panel.table.setCurrentIndex(tasks.index(0, 0))
        task_panel.request_take()
        await until(lambda: w3.dossier_form.dossier is not None, "dossier shown")
        await until(lambda: "professionnel demandé — Pédiatre" in w3.message_label.text())
        header = [
            tasks.headerData(c, Qt.Orientation.Horizontal) for c in range(tasks.columnCount())
        ]
        assert tasks.index(0, header.index("Professionnel")).data() == "Pédiatre"
        await focus(osnp)
        panel = w3.search_panel
        assert panel is not None
        qtbot.keyClick(w3, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: panel.model.rowCount() > 0, lambda: panel.summary.text())
        assert panel.summary.text().startswith("Recherche : Pédiatre")
        first = first_doctor(panel)  # under the commune's CPTS, which heads the results
        assert first.text().endswith("— Pédiatre"), first.text()
        assert "Moinard" not in first.text()
        if shots:
            w3.grab().save(str(Path(shots) / "osnp_search_paediatrician.png"))
        # The OSNP can still ask for a GP: the treating doctor then comes first again.
        set_combo(panel.profession, "10/SM54")
        panel.model.clear()
        panel.request_search()
        await until(lambda: panel.model.rowCount() > 0, lambda: panel.summary.text())
        assert first_doctor(panel).text().startswith("★")
        assert "Moinard" in first_doctor(panel).text()
        for desk in (mrl, osnp):
            await desk.close()

    qloop.run_until_complete(scenario())
    with sessions() as s:
        task = s.scalars(select(OsnpTask)).one()
        assert (task.profession, task.specialty) == ("10", "SM40")
