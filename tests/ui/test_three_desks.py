"""A training call carried by three desks from ring to closed dossier, from the keyboard."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Dossier, OsnpTask
from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.ui.conftest import focus, open_desk, type_text, until

SCENARIO = Path(__file__).resolve().parents[2] / "resources" / "training" / "fievre-enfant.toml"


def set_combo(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)


def test_training_call_from_ring_to_closed_dossier(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    line = TrainingLine([parse_scenario(SCENARIO)], interval=0, give_up_after=0)

    async def scenario() -> int:
        n1 = await open_desk(hub_url, "n1", tmp_path, line)
        mrl = await open_desk(hub_url, "mrl", tmp_path)
        osnp = await open_desk(hub_url, "osnp", tmp_path)
        w1, w2, w3 = n1.window, mrl.window, osnp.window
        assert w1 and w2 and w3
        for w in (w1, w2, w3):
            qtbot.addWidget(w)

        # N1: the training line rings, F2 answers, the dossier opens.
        line.ring("fievre-enfant")
        await until(w1.call_bar.answer_button.isEnabled, "ringing on N1")
        assert w1.call_bar.badge.text() == "15"
        await focus(n1)
        qtbot.keyClick(w1, Qt.Key.Key_F2)
        await until(lambda: w1.dossier_form.dossier is not None, "dossier opened")
        form = w1.dossier_form
        assert form.edits["callback_number"].text() == line.scenarios[0].caller
        # The trainee reads what the caller says, turn by turn.
        panel = w1.training_panel
        assert panel.isVisible() and line.scenarios[0].dialogue[0].text in panel.text.toPlainText()
        qtbot.keyClick(w1, Qt.Key.Key_F6)
        assert line.scenarios[0].dialogue[1].text in panel.text.toPlainText()
        qtbot.keyClicks(form.edits["patient_last_name"], "Morin")
        type_text(form.edits["patient_first_name"], "Zoé")
        qtbot.keyClicks(form.age, "3")
        qtbot.keyClicks(form.commune, "La Rochel")
        popup = form.commune.completer().popup()
        assert popup is not None
        await until(popup.isVisible, "commune suggestions shown")
        assert popup.model().index(0, 0).data().startswith("La Rochelle (17000)")
        qtbot.keyClick(popup, Qt.Key.Key_Down)
        qtbot.keyClick(popup, Qt.Key.Key_Return)
        await until(lambda: not popup.isVisible(), "suggestions closed")
        assert form.commune.text() == "La Rochelle — 17300"
        type_text(form.motif, "Fièvre 39,5 depuis hier, enfant tonique")
        qtbot.keyClick(w1, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
        qtbot.keyClick(w1, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

        # MRL: the dossier appears in the SNP queue with what N1 typed; F5 takes it.
        queue = w2.queue_model
        assert queue is not None
        await until(lambda: queue.rowCount() == 1, "dossier in the MRL's queue")
        row = queue.row_at(0)
        assert row and row["patient_last_name"] == "Morin" and row["commune_insee"] == "17300"
        assert row["priority"] == "P2" and "39,5" in row["motif"]
        # N1's form clears on its own qualify reply, which may come after the MRL's event.
        await until(lambda: w1.dossier_form.dossier is None, "N1 is free for the next call")
        await until(lambda: "Débriefing" in w1.training_panel.text.toPlainText(), "debrief")
        assert "bonne priorité" in w1.training_panel.heading.text()  # P2 was expected
        await focus(mrl)
        qtbot.keyClick(w2, Qt.Key.Key_F5)
        await until(lambda: w2.decision_form.isEnabled(), "MRL holds the dossier")
        assert queue.rowCount() == 0
        held = w2.dossier_form.dossier
        assert held is not None
        dossier_id = held["id"]
        decision = w2.decision_form
        set_combo(decision.decision, "ORIENT")
        set_combo(decision.care_level, "R3")
        set_combo(decision.filiere, "SNP")
        set_combo(decision.orientation, "CONSULTATION_48H")
        set_combo(decision.consultation, "cabinet")
        qtbot.keyClick(w2, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

        # OSNP: the task appears with its 48 h deadline; Enter takes it; Ctrl+Enter closes.
        tasks, task_panel = w3.tasks_model, w3.task_panel
        assert tasks is not None and task_panel is not None
        await until(lambda: tasks.rowCount() == 1, "task on the OSNP desk")
        await focus(osnp)
        task_panel.table.setFocus()
        task_panel.table.setCurrentIndex(tasks.index(0, 0))
        qtbot.keyClick(task_panel.table, Qt.Key.Key_Return)
        await until(task_panel.close_button.isEnabled, "OSNP holds the task")
        set_combo(task_panel.outcome, "RDV_MT")
        type_text(task_panel.with_whom, "Dr Aubert (médecin traitant)")
        qtbot.keyClicks(task_panel.place, "Cabinet du Port, La Rochelle")
        qtbot.keyClick(w3, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: tasks.rowCount() == 0, "task closed")
        for desk in (n1, mrl, osnp):
            await desk.close()
        return int(dossier_id)

    dossier_id = qloop.run_until_complete(scenario())
    with sessions() as s:
        d = s.get(Dossier, dossier_id)
        task = s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == dossier_id))
        assert d is not None and task is not None
        assert d.status == "CLOSED" and d.priority == "P2" and d.track == "SNP"
        assert (d.patient_last_name, d.patient_first_name, d.patient_age) == ("Morin", "Zoé", 3)
        assert d.commune_name == "La Rochelle" and d.decision == "ORIENT"
        assert task.outcome == "RDV_MT" and task.appointment_with.startswith("Dr Aubert")
        assert isinstance(task.appointment_at, datetime)
