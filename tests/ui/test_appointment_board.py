"""The appointment board on the desks: an editor's appointment that no dossier takes by
itself shows in « Rendez-vous reçus » on the OSNP's and the MRL's desks; Ctrl+Maj+R on
the OSNP's attaches it to the open dossier, and it leaves both boards, the MRL's from
the event alone."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.hub import endpoint
from app.appointments.models import Appointment
from app.appointments.settings import AppointmentSettings, EditorCertificate
from app.config.settings import HubSettings
from app.db.models import User
from app.directory.models import Effecteur
from app.hub.auth import Principal
from app.hub.embedded import EmbeddedHub
from tests.appointments.test_board import tomorrow, waiting_dossier
from tests.certs import Authority, Issued, client_certificate
from tests.ui.conftest import focus, open_desk, until

EDITOR = EditorCertificate("agenda-test", common_name="agenda.editeur.test", unit="Editeur Test")
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@dataclass
class EditorRoom:
    url: str
    fhir: str
    ca: Path
    editor: Issued


@pytest.fixture
def editor_room(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[EditorRoom]:
    with sessions.begin() as s:
        s.add(Effecteur(rpps="10100050075", last_name="Martin", first_name="Claire"))
        s.execute(update(User).where(User.username == "mrl").values(national_id="810003456781"))
    ca = Authority(tmp_path / "igc")
    server = ca.issue("rdv")
    settings = HubSettings(
        sections=(AppointmentSettings(server.cert, server.key, ca.file, (EDITOR,), port=0),)
    )
    hub = EmbeddedHub(db_url, settings=settings)
    url = hub.start()
    running = endpoint(hub.hub)
    assert running is not None
    editor = client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit)
    yield EditorRoom(url, f"https://127.0.0.1:{running.port}/fhir", ca.file, editor)
    hub.stop()


def test_the_osnp_attaches_a_received_appointment_from_the_keyboard(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    editor_room: EditorRoom,
    sessions: sessionmaker[Session],
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    first = waiting_dossier(sessions, people, "call-a")
    waiting_dossier(sessions, people, "call-b")  # two waiting: no attachment by itself

    async def post() -> None:
        ctx = ssl.create_default_context(cafile=str(editor_room.ca))
        ctx.load_cert_chain(str(editor_room.editor.cert), str(editor_room.editor.key))
        async with httpx.AsyncClient(base_url=editor_room.fhir, verify=ctx) as http:
            answer = await http.post("/Appointment", content=tomorrow())
            assert answer.status_code == 201, answer.text

    async def scenario() -> None:
        osnp = await open_desk(editor_room.url, "osnp", tmp_path, None)
        mrl = await open_desk(editor_room.url, "mrl", tmp_path, None)
        for desk in (osnp, mrl):
            assert desk.window is not None
            qtbot.addWidget(desk.window)
        w, controller = osnp.window, osnp.controller
        assert w is not None and controller is not None and w.appointment_board is not None
        mrl_board = mrl.window.appointment_board if mrl.window else None
        assert mrl_board is not None
        await post()
        board = w.appointment_board
        await until(lambda: board.model.rowCount() == 1, "on the OSNP's board")
        await until(lambda: mrl_board.model.rowCount() == 1, "on the MRL's board")
        assert board.model.data(board.model.index(0, 1)) == "Claire Martin"
        assert board.model.data(board.model.index(0, 4)) == "Réservé"
        await focus(osnp)
        qtbot.keyClick(w, Qt.Key.Key_R, CTRL_SHIFT)  # no dossier open yet
        assert "Ouvrez d'abord" in w.message_label.text()
        controller.dossier.open(first, fetch=True)
        await until(lambda: controller.dossier.current_id == first, "dossier open")
        qtbot.keyClick(w, Qt.Key.Key_R, CTRL_SHIFT)
        await until(lambda: board.model.rowCount() == 0, "attached: off the board")
        await until(lambda: mrl_board.model.rowCount() == 0, "off the MRL's board too")
        assert "rattaché" in w.message_label.text()
        await osnp.close()
        await mrl.close()

    qloop.run_until_complete(scenario())
    with sessions() as s:
        assert s.scalars(select(Appointment.dossier_id)).one() == first


def test_desks_that_do_not_follow_appointments_have_no_board(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        for name in ("n1", "amu"):
            desk = await open_desk(hub_url, name, tmp_path, None)
            assert desk.window is not None
            qtbot.addWidget(desk.window)
            assert desk.window.appointment_board is None
            await desk.close()

    qloop.run_until_complete(scenario())
