"""An RS-SAS-RDV from the national platform on the desks: the fake platform (a Hub
Santé client on the real RabbitMQ) publishes an appointment booked for a regulator no
account carries; it lands on the OSNP's « Rendez-vous reçus » with the platform as its
source, the OSNP opens the waiting dossier and attaches it with Ctrl+Maj+R, and the
platform has its acknowledgement. The desk is grabbed to artifacts/ to be looked at."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.models import Appointment
from app.directory.models import Effecteur
from app.hub.auth import Principal
from app.hub.embedded import EmbeddedHub
from app.interop.hubsante.broker import Broker
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
