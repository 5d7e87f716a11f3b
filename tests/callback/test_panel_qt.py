"""The call-back panel walks a whole task, wired to the real hub service: the MT does
not answer (retry planned), the colleague refuses, an effecteur accepts its published
slot (booked, patient text shown), and the letter to the MT is produced."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402

from app.callback.dialling import DialledCall  # noqa: E402
from app.callback.vocab import AttemptResult  # noqa: E402
from app.domain.rules import FlowError  # noqa: E402
from app.hub.payloads import EventMessage  # noqa: E402
from telephony.line import LineEvent, LineEventKind  # noqa: E402
from tests.callback.conftest import Desks, Territory, osnp_task  # noqa: E402
from ui.widgets.callback_panel import CallbackPanel  # noqa: E402


def target(panel: CallbackPanel) -> dict[str, Any]:
    """The target the panel shows (the test knows there is one)."""
    shown = panel.current_target()
    assert shown is not None, "no target shown"
    return shown


def wire(panel: CallbackPanel, desks: Desks) -> list[str]:
    """The controller's job, synchronously: intents to the hub, replies back to the panel."""
    errors: list[str] = []

    def send(type_: str, payload: dict[str, Any]) -> None:
        try:
            panel.apply_reply(type_, desks.osnp.send(type_, **payload))
        except FlowError as exc:
            errors.append(exc.message)
            return
        for out in desks.osnp.emitted:
            panel.on_event(cast(EventMessage, out.message))

    panel.intent_requested.connect(send)
    return errors


def status_of(panel: CallbackPanel, kind: str) -> str:
    return next(r["status"] for r in panel.model.rows if r["kind"] == kind)


def select(panel: CallbackPanel, kind: str) -> dict[str, Any]:
    row = next(r for r in panel.model.rows if r["kind"] == kind)
    panel.select_target(row["id"])
    current = panel.current_target()
    assert current is not None and current["id"] == row["id"]
    return current


def test_panel_walks_a_whole_task(
    qtbot: QtBot,
    desks: Desks,
    territory: Territory,
    tmp_path: Path,
) -> None:
    task_id = osnp_task(desks, "Dr Claire Vasseur", patient_first_name="Zoé")
    task = {
        "id": task_id,
        "patient": "Zoé Morin",
        "patient_age": 3,
        "motif": "Fièvre 39,5 depuis hier",
        "deadline_at": "2026-11-25T09:00:00+00:00",
    }
    panel = CallbackPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 1100)
    panel.show()
    errors = wire(panel, desks)
    dialled: list[tuple[int, str]] = []
    panel.dial_requested.connect(lambda t, n: dialled.append((t, n)))
    panel.open_task(task)

    # the plan is shown, the MT selected first, its script filled in
    assert [r["kind"] for r in panel.model.rows][:2] == ["MT", "CONFRERE"]
    assert target(panel)["kind"] == "MT"
    assert "Zoé Morin, 3 ans" in panel.script.toPlainText()
    qtbot.mouseClick(panel.call_direct, Qt.MouseButton.LeftButton)
    assert dialled == [(target(panel)["id"], "0600000000")]

    # the line says nobody answered; the facts go with the OSNP's outcome
    mt_id = target(panel)["id"]
    call = DialledCall(mt_id, "0600000000")
    for kind, at, reason in (
        (LineEventKind.DIALING, 0.0, ""),
        (LineEventKind.ENDED, 25.0, "no_answer"),
    ):
        call.feed(LineEvent(kind, call_id="out-7", at=at, reason=reason))
    panel.attach_call(mt_id, call.attempt_fields())

    # MT: no answer → retry planned, the colleague comes next
    qtbot.mouseClick(panel.result_buttons[AttemptResult.NO_ANSWER], Qt.MouseButton.LeftButton)
    assert status_of(panel, "MT") == "RETRY"
    attempt = desks.osnp.send("callback.plan", task_id=task_id)["plan"]["attempts"][0]
    assert attempt["call_ref"] == "out-7" and attempt["duration_seconds"] == 0.0
    assert target(panel)["kind"] == "CONFRERE"
    assert "Ferrand" in target(panel)["name"]

    # colleague refuses: agenda full
    panel.refusal.setCurrentIndex(panel.refusal.findData("COMPLET"))
    qtbot.mouseClick(panel.result_buttons[AttemptResult.REFUSED], Qt.MouseButton.LeftButton)
    assert status_of(panel, "CONFRERE") == "REFUSED"

    # the SAS effecteur accepts its published slot
    assert target(panel)["kind"] == "CRENEAU"
    assert "Confirmation d'un créneau publié" in panel.script.toPlainText()
    qtbot.mouseClick(panel.result_buttons[AttemptResult.ACCEPTED], Qt.MouseButton.LeftButton)
    assert errors == []
    assert status_of(panel, "CRENEAU") == "ACCEPTED"
    assert panel.appointment is not None and panel.appointment["outcome"] == "RDV_CRENEAU"
    assert panel.after.isVisible()
    assert (
        "RDV pour Zoé avec Dr Inès Barbier le lundi 23 novembre à 15h00"
        in panel.patient_text.toPlainText()
    )
    assert panel.billing.text() == "À coter : SNP (15 €)"
    assert not panel.result_buttons[AttemptResult.ACCEPTED].isEnabled()

    qtbot.mouseClick(panel.letter_button, Qt.MouseButton.LeftButton)
    assert panel.letter_pdf is not None and panel.letter_pdf.startswith(b"%PDF")
    assert panel.letter_label.text().endswith(".pdf prêt")
    shot = tmp_path / "callback-panel.png"
    assert panel.grab().save(str(shot))
    if os.environ.get("SASDESK_SHOTS"):
        shutil.copy(shot, Path(os.environ["SASDESK_SHOTS"]) / shot.name)
    if shutil.which("pdftotext"):
        (tmp_path / "c.pdf").write_bytes(panel.letter_pdf)
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Dr Claire Vasseur" in " ".join(text.split())


def test_skip_needs_a_reason(qtbot: QtBot, desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(desks)
    panel = CallbackPanel()
    qtbot.addWidget(panel)
    wire(panel, desks)
    panel.open_task({"id": task_id, "patient": "Zoé Morin", "motif": "fièvre"})
    select(panel, "HORS_DISPO")
    qtbot.mouseClick(panel.skip_button, Qt.MouseButton.LeftButton)
    assert status_of(panel, "HORS_DISPO") == "TO_CALL"  # nothing sent without a reason
    panel.skip_reason.setText("en congés selon le secrétariat")
    qtbot.mouseClick(panel.skip_button, Qt.MouseButton.LeftButton)
    assert status_of(panel, "HORS_DISPO") == "SKIPPED"
    row = next(r for r in panel.model.rows if r["kind"] == "HORS_DISPO")
    position = panel.model.position(row["id"])
    assert position is not None
    assert (
        panel.model.data(panel.model.index(position, 5)) == "passé : en congés selon le secrétariat"
    )


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
