"""The AMU track from the desks: P1 through the ARM N2 to the AMU doctor; a P3 closed by N1."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Dossier
from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.ui.conftest import focus, open_desk, type_text, until

TRAINING = Path(__file__).resolve().parents[2] / "resources" / "training"


def test_p1_goes_through_n2_to_the_amu_doctor_and_p3_is_closed_by_n1(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    scenarios = [
        parse_scenario(TRAINING / "douleur-thoracique.toml"),
        parse_scenario(TRAINING / "pharmacie-garde.toml"),
    ]
    line = TrainingLine(scenarios, interval=0, give_up_after=0)

    async def scenario() -> tuple[int, int]:
        n1 = await open_desk(hub_url, "n1", tmp_path, line)
        n2 = await open_desk(hub_url, "n2", tmp_path)
        amu = await open_desk(hub_url, "amu", tmp_path)
        w1, w2, w3 = n1.window, n2.window, amu.window
        assert w1 and w2 and w3
        queue2, queue3 = w2.queue_model, w3.queue_model
        assert queue2 is not None and queue3 is not None
        for w in (w1, w2, w3):
            qtbot.addWidget(w)

        line.ring(scenarios[0].id)
        await until(w1.call_bar.answer_button.isEnabled, "ringing")
        await focus(n1)
        qtbot.keyClick(w1, Qt.Key.Key_F2)
        chest = (await until(lambda: w1.dossier_form.dossier, "dossier opened"))["id"]
        type_text(w1.dossier_form.motif, "Douleur thoracique oppressive depuis 30 min")
        qtbot.keyClick(w1, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
        qtbot.keyClick(w1, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(w1, Qt.Key.Key_F3)  # N1 hangs up, the dossier goes on

        # The AMU doctor sees the P1 waiting for the N2 too; the N2 takes it with F5.
        await until(lambda: queue2.rowCount() == 1, "P1 in the N2 queue")
        await until(lambda: queue3.rowCount() == 1, "P1 visible to the AMU doctor")
        await focus(n2)
        qtbot.keyClick(w2, Qt.Key.Key_F5)
        await until(lambda: w2.decision_form.isEnabled(), "N2 holds the dossier")
        qtbot.keyClick(w2, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # forward

        await until(
            lambda: queue3.rowCount() == 1 and (queue3.row_at(0) or {})["queue"] == "AMU_MEDECIN",
            "forwarded",
        )
        await focus(amu)
        qtbot.keyClick(w3, Qt.Key.Key_F5)
        await until(lambda: w3.decision_form.isEnabled(), "AMU doctor holds the dossier")
        form = w3.decision_form
        form.decision.setCurrentIndex(form.decision.findData("INTER"))
        form.care_level.setCurrentIndex(form.care_level.findData("R1"))
        form.filiere.setCurrentIndex(form.filiere.findData("AMU"))
        form.means.setCurrentIndex(form.means.findData("SMUR"))
        qtbot.keyClick(w3, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(form.close_button.isEnabled, "decision recorded, closing allowed")
        qtbot.keyClick(w3, Qt.Key.Key_F8)
        await until(lambda: w3.dossier_form.dossier is None, "AMU dossier closed")

        # A P3 information call is closed by N1 with F8.
        line.ring(scenarios[1].id)
        await until(w1.call_bar.answer_button.isEnabled, "second call ringing")
        await focus(n1)
        qtbot.keyClick(w1, Qt.Key.Key_F2)
        second = await until(
            lambda: (
                w1.dossier_form.dossier
                if w1.dossier_form.dossier and w1.dossier_form.dossier["id"] != chest
                else None
            ),
            "second dossier",
        )
        info = second["id"]
        qtbot.keyClick(w1, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
        qtbot.keyClick(w1, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(
            lambda: (
                w1.dossier_form.dossier is not None and w1.dossier_form.dossier["priority"] == "P3"
            ),
            "P3 stays with N1",
        )
        qtbot.keyClick(w1, Qt.Key.Key_F8)
        await until(lambda: w1.dossier_form.dossier is None, "P3 closed")
        for desk in (n1, n2, amu):
            await desk.close()
        return chest, info

    chest, info = qloop.run_until_complete(scenario())
    with sessions() as s:
        d = s.get(Dossier, chest)
        assert d and (d.status, d.priority, d.track, d.decision, d.means) == (
            "CLOSED",
            "P1",
            "AMU",
            "INTER",
            "SMUR",
        )
        p3 = s.scalar(select(Dossier).where(Dossier.id == info))
        assert p3 and (p3.status, p3.priority, p3.track) == ("CLOSED", "P3", None)
