"""The OSNP's real desk receiving an RS-SAS-RDV from the national platform and attaching
it from the keyboard, grabbed from the current X display:

    DISPLAY=:99 python -m tests.ui.platform_board_shot --out artifacts/platform-board

Run by tests/ui/test_platform_board.py under Xvfb. A real RabbitMQ laid out like the
Hub Santé (app/interop/hubsante/broker.py) and its dispatcher; an embedded demo hub
whose connector talks to it; through the protocol an ARM answers a child's fever and
the MRL orients it to a consultation (the dossier waiting for an appointment). The fake
national platform publishes an appointment booked for a regulator no account carries:
it lands on the OSNP's « Rendez-vous reçus » (shot 1); the OSNP opens the dossier and
presses Ctrl+Maj+R: attached, off the board (shot 2), on the dossier's timeline (shot 3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget
from sqlalchemy import select

from app.db.engine import make_engine, make_sessionmaker
from app.demo.seed import Demo
from app.directory.models import Effecteur, bump_revision
from app.interop.hubsante.broker import Broker
from app.room.embedded import EmbeddedHub
from tests.appointments.test_platform_rdv import RPPS, envelope, rdv
from tests.interop.hubsante_fixtures import CLIENTS, LRM, PTFSAS, settings, start_peers, stop_peers
from tests.ui.editor_booking_shot import grab, oriented, timeline_in_front, timeline_texts, wait
from ui.desk import Desk
from ui.launch import make_app

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def the_practitioner(db_url: str) -> None:
    """The platform's practitioner is in the room's directory."""
    sessions = make_sessionmaker(make_engine(db_url))
    with sessions.begin() as s:
        if s.scalar(select(Effecteur.id).where(Effecteur.rpps == RPPS)) is None:
            s.add(
                Effecteur(rpps=RPPS, last_name="Moreau", first_name="Lucie", rev=bump_revision(s))
            )


def board_rows(w: object) -> list[list[str]]:
    board = getattr(w, "appointment_board")  # noqa: B009
    model = board.model
    return [
        [str(model.data(model.index(r, c))) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


async def drive(url: str, broker: Broker, out: Path) -> None:
    dossier_id = await oriented(url)
    dispatcher, (ptf, lrm) = await start_peers(broker, PTFSAS, LRM)
    folder = Path(tempfile.mkdtemp())
    desk = await Desk.connect(url, journal=folder / "osnp.json", desk_name="poste-osnp")
    try:
        await desk.client.login("osnp", "demo")
        w = desk.build()
        w.setGeometry(0, 0, 1600, 1000)
        w.show()
        w.windowHandle().requestActivate()
        assert w.appointment_board is not None and desk.controller is not None
        board = w.appointment_board
        await ptf.publish(envelope(rdv("9b2e-ptf-board")))
        await ptf.wait_for("ack", 1)
        await wait(lambda: board.model.rowCount() == 1, "the appointment on the OSNP's board")
        print("board:", *board_rows(w)[0], sep=" | ")
        dock = w.findChild(QDockWidget, "appointmentDock")
        assert dock is not None
        dock.raise_()  # the board's tab, in front of the slot search
        await asyncio.sleep(0.8)
        grab(out, "1-received")
        desk.controller.dossier.open(dossier_id, fetch=True)
        await wait(lambda: desk.controller.dossier.current_id == dossier_id, "the dossier open")  # type: ignore[union-attr]
        await wait(lambda: w.dossier_form.dossier is not None, "the dossier shown")
        await wait(w.isActiveWindow, "the desk's window active")
        QTest.keyClick(w, Qt.Key.Key_R, CTRL_SHIFT)
        await wait(lambda: board.model.rowCount() == 0, "attached: off the board")
        print("message:", w.message_label.text())
        await asyncio.sleep(0.5)
        grab(out, "2-attached")
        timeline_in_front(w)
        attached = "Rendez-vous rattaché"
        await wait(lambda: any(attached in t for t in timeline_texts(w)), "on the timeline")
        await asyncio.sleep(0.8)
        print("timeline:", *timeline_texts(w), sep="\n  ")
        grab(out, "3-timeline")
    finally:
        await desk.close()
        await stop_peers(dispatcher, [ptf, lrm])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder of the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # the defaults, not a saved layout
    folder = Path(tempfile.mkdtemp())
    db_url = f"sqlite:///{folder / 'demo.sqlite3'}"
    broker = Broker(CLIENTS)
    broker.start()
    try:
        hub = EmbeddedHub(db_url, demo=Demo(), settings=settings(broker))
        url = hub.start()
        the_practitioner(db_url)
        app: QApplication = make_app()
        try:
            with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
                runner.run(drive(url, broker, args.out))
        finally:
            hub.stop()
    finally:
        broker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
