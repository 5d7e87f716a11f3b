"""An RS-SAS-RDV from the national platform on the desks: the fake platform (a Hub
Santé client on the real RabbitMQ) publishes an appointment booked for a regulator no
account carries; it lands on the OSNP's « Rendez-vous reçus » with the platform as its
source, the OSNP opens the waiting dossier and attaches it with Ctrl+Maj+R, and the
platform has its acknowledgement. The desk is grabbed to artifacts/ to be looked at."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.models import Appointment
from app.directory.models import Effecteur
from app.hub.auth import Principal
from app.interop.hubsante.broker import Broker
from app.room.embedded import EmbeddedHub
from tests.appointments.test_board import waiting_dossier
from tests.appointments.test_platform_rdv import RPPS, envelope, rdv
from tests.interop.hubsante_fixtures import (
    LRM,
    PTFSAS,
    needs_rabbitmq,
    settings,
    start_peers,
    stop_peers,
)
from tests.ui.conftest import focus, open_desk, until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "platform-board"
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def platform_hub(broker: Broker, db_url: str, sessions: sessionmaker[Session]) -> Iterator[str]:
    with sessions.begin() as s:
        s.add(Effecteur(rpps=RPPS, last_name="Moreau", first_name="Lucie"))
    hub = EmbeddedHub(db_url, settings=settings(broker))
    yield hub.start()
    hub.stop()


@needs_rabbitmq
def test_a_platform_appointment_lands_on_the_board_and_is_attached_from_the_keyboard(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    broker: Broker,
    platform_hub: str,
    sessions: sessionmaker[Session],
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    dossier_id = waiting_dossier(sessions, people, "call-ptf")
    sent = envelope(rdv("9b2e-ptf-board"))

    async def scenario() -> None:
        dispatcher, (ptf, lrm) = await start_peers(broker, PTFSAS, LRM)
        osnp = await open_desk(platform_hub, "osnp", tmp_path, None)
        try:
            w, controller = osnp.window, osnp.controller
            assert w is not None and controller is not None and w.appointment_board is not None
            qtbot.addWidget(w)
            board = w.appointment_board
            await ptf.publish(sent)
            await ptf.wait_for("ack", 1)
            await until(lambda: board.model.rowCount() == 1, "on the OSNP's board")
            row = [
                board.model.data(board.model.index(0, c)) for c in range(board.model.columnCount())
            ]
            assert "Lucie Moreau" in row and "Réservé" in row
            assert "Inès BERNARD" in row  # no account carries the regulator: their name
            assert any("plateforme" in str(v).lower() for v in row), row
            dock = w.findChild(QDockWidget, "appointmentDock")
            assert dock is not None
            dock.raise_()  # the board's tab, in front of the slot search
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            w.resize(1600, 1000)
            await until(lambda: w.width() == 1600, "window resized for the grab")
            table = board.table
            await until(
                lambda: table.columnWidth(3) >= table.sizeHintForColumn(3), "columns fitted"
            )
            assert w.grab().save(str(ARTIFACTS / "1-received.png"))
            controller.dossier.open(dossier_id, fetch=True)
            await until(lambda: controller.dossier.current_id == dossier_id, "dossier open")
            await focus(osnp)
            qtbot.keyClick(w, Qt.Key.Key_R, CTRL_SHIFT)
            await until(lambda: board.model.rowCount() == 0, "attached: off the board")
            assert "rattaché" in w.message_label.text()
            assert w.grab().save(str(ARTIFACTS / "2-attached.png"))
        finally:
            await osnp.close()
            await stop_peers(dispatcher, [ptf, lrm])

    qloop.run_until_complete(scenario())
    with sessions() as s:
        row = s.scalars(select(Appointment)).one()
        assert (row.source, row.dossier_id) == ("platform", dossier_id)


XVFB_SHOTS = ("1-received", "2-attached", "3-timeline")


@needs_rabbitmq
@pytest.mark.xvfb
def test_the_platform_board_on_a_real_x_display(xvfb_display: str) -> None:
    """The same scenario on the real desk under Xvfb (QT_QPA_PLATFORM=xcb), in a process
    of its own (tests/ui/platform_board_shot.py), grabbed from the X display."""
    out_dir = ARTIFACTS / "xvfb"
    for name in XVFB_SHOTS:
        (out_dir / f"{name}.png").unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
    env["TZ"] = "Europe/Paris"  # a room's desk: its clock and the hub's messages agree
    command = [sys.executable, "-m", "tests.ui.platform_board_shot", "--out", str(out_dir)]
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    board = out.stdout.split("board:", 1)[1].splitlines()[0]
    assert "Lucie Moreau" in board and "Réservé" in board and "plateforme" in board.lower()
    assert "rattaché" in out.stdout.split("message:", 1)[1].splitlines()[0]
    timeline = out.stdout.split("timeline:", 1)[1]
    assert "Rendez-vous rattaché" in timeline and "appointment." not in timeline, timeline
    for name in XVFB_SHOTS:
        image = QImage(str(out_dir / f"{name}.png"))
        assert (image.width(), image.height()) == (1600, 1000), name
        colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 23)}
        assert len(colours) > 8, name  # a real desk was drawn, not a black screen
