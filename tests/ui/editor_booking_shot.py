"""The OSNP's real desk booking an editor's slot, grabbed from the current X display at
three moments: before the click (the case shown), pending, confirmed by the editor.

    DISPLAY=:99 python -m tests.ui.editor_booking_shot --out artifacts/editor-booking

Run by tests/ui/test_editor_booking_screenshot.py under Xvfb. An embedded demo hub with
the appointment endpoint; one free SNP slot of the demo territory is published by the
fake editor (its comment is the editor's booking page); through the protocol an ARM
answers a child's fever in La Rochelle and the MRL orients it to a consultation; the
OSNP takes the task, searches, selects the slot (shot 1), presses Enter (the browser is
Qt's URL handler, which only records the address: shot 2), and the fake editor posts
the appointment over mutual TLS (shot 3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import qasync
from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtCore import Slot as QtSlot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QStandardItem
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget
from sqlalchemy import select, update

from app.appointments.hub import endpoint
from app.appointments.settings import AppointmentSettings, EditorCertificate
from app.client.hub_client import HubClient
from app.config.settings import HubSettings
from app.db.engine import make_engine, make_sessionmaker
from app.db.models import User
from app.demo.seed import Demo
from app.directory.models import Effecteur, Slot, Unavailability, bump_revision
from app.hub.embedded import EmbeddedHub
from tests.appointments.fake_editor import FakeEditor
from tests.certs import Authority, client_certificate
from tests.core.flow_helpers import ORIENT_48H
from ui.desk import Desk
from ui.launch import make_app
from ui.widgets.search_panel import KIND, PAYLOAD

EDITOR = EditorCertificate("agenda-demo", common_name="agenda.editeur.test", unit="Editeur Test")
PAGE = "https://agenda.editeur.test/rdv/42"
OSNP_ID = "810009876543"


class Browser(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @QtSlot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def publish_slot(db_url: str) -> tuple[int, str, datetime]:
    """The earliest free SNP slot of a doctor at work becomes the editor's."""
    sessions = make_sessionmaker(make_engine(db_url))
    with sessions.begin() as s:
        rev = bump_revision(s)
        slot = s.scalars(
            select(Slot)
            .join(Effecteur, Effecteur.id == Slot.effecteur_id)
            .where(Slot.status == "open", Slot.visibility == "SNP", Slot.capacity == 1)
            .where(Slot.start > datetime.now(UTC), Slot.booked == 0, Effecteur.rpps != "")
            .where(Slot.effecteur_id.not_in(select(Unavailability.effecteur_id)))
            .order_by(Slot.start)
        ).first()
        assert slot is not None, "no free SNP slot in the demo territory"
        doctor = s.get(Effecteur, slot.effecteur_id)
        assert doctor is not None
        slot.comment, slot.rev = PAGE, rev  # the index reloads it at the next search
        s.execute(update(User).where(User.username == "osnp").values(national_id=OSNP_ID))
        return slot.id, doctor.rpps, slot.start


async def logged(url: str, username: str) -> HubClient:
    client = HubClient(url, desk=f"poste-{username}", reconnect=False)
    await client.connect()
    await client.login(username, "demo")
    return client


async def oriented(url: str) -> None:
    arm, mrl = await logged(url, "arm1"), await logged(url, "mrl")
    await arm.request("call.offered", call_ref="shot-1", line="116117", caller="0639980101")
    d = (await arm.request("call.answered", call_ref="shot-1"))["dossier"]
    await arm.request(
        "dossier.update",
        dossier_id=d["id"],
        fields={"patient_last_name": "Morin", "patient_first_name": "Zoé", "patient_age": 3,
                "commune_insee": "17300", "motif": "Fièvre 39,5 depuis hier"},
    )  # fmt: skip
    await arm.request("dossier.qualify", dossier_id=d["id"], priority="P2")
    await mrl.request("dossier.take", dossier_id=d["id"])
    await mrl.request("dossier.decide", dossier_id=d["id"], **ORIENT_48H)
    for client in (arm, mrl):
        await client.close()


async def wait(condition: Callable[[], object], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def find_slot(item: QStandardItem | None, slot_id: int) -> QStandardItem | None:
    if item is None:
        return None
    if item.data(KIND) == "slot":
        return item if item.data(PAYLOAD)["id"] == slot_id else None
    for r in range(item.rowCount()):
        found = find_slot(item.child(r), slot_id)
        if found is not None:
            return found
    return None


def grab(out: Path, name: str) -> None:
    QGuiApplication.primaryScreen().grabWindow(0).save(str(out / f"{name}.png"))


async def drive(url: str, editor: FakeEditor, slot_id: int, out: Path) -> None:
    browser = Browser()
    QDesktopServices.setUrlHandler("https", browser, cast(bytes, "open"))
    await oriented(url)
    folder = Path(tempfile.mkdtemp())
    desk = await Desk.connect(url, journal=folder / "osnp.json", desk_name="poste-osnp")
    await desk.client.login("osnp", "demo")
    w = desk.build()
    w.show()
    w.windowHandle().requestActivate()
    assert w.tasks_model is not None and w.task_panel is not None and w.search_panel
    tasks, panel = w.tasks_model, w.search_panel
    await wait(lambda: tasks.rowCount() >= 1, "the task")
    w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
    w.task_panel.request_take()
    await wait(lambda: w.dossier_form.dossier is not None, "the dossier")
    await wait(w.isActiveWindow, "the desk's window active")
    QTest.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    await wait(lambda: panel.model.rowCount() > 0, "the search results")
    item = None
    for r in range(panel.model.rowCount()):
        item = item or find_slot(panel.model.item(r), slot_id)
    assert item is not None, "the editor's slot is not in the results"
    panel.tree.scrollTo(item.index())
    panel.tree.setCurrentIndex(item.index())
    panel.tree.setFocus()
    await asyncio.sleep(0.5)
    grab(out, "1-before")
    QTest.keyClick(panel.tree, Qt.Key.Key_Return)
    await wait(lambda: "En attente de l'agenda" in w.message_label.text(), "pending")
    await asyncio.sleep(0.5)
    dock = w.timeline.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    if dock is not None:
        dock.raise_()  # the dossier's timeline, tabbed behind the call-back script
    await asyncio.sleep(0.5)
    grab(out, "2-pending")
    answer = await editor.book("ed-0", regulator=OSNP_ID)
    assert answer.status_code == 201, answer.text
    await wait(lambda: "Réservé" in w.message_label.text(), "the editor's confirmation")
    await asyncio.sleep(0.5)
    grab(out, "3-confirmed")
    print("opened:", *browser.opened)
    QDesktopServices.unsetUrlHandler("https")
    await desk.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder of the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # the defaults, not a saved layout
    folder = Path(tempfile.mkdtemp())
    db_url = f"sqlite:///{folder / 'demo.sqlite3'}"
    ca = Authority(folder / "igc")
    server = ca.issue("rdv")
    settings = HubSettings(
        sections=(AppointmentSettings(server.cert, server.key, ca.file, (EDITOR,), port=0),)
    )
    hub = EmbeddedHub(db_url, demo=Demo(), settings=settings)
    url = hub.start()
    running = endpoint(hub.hub)
    assert running is not None
    slot_id, rpps, start = publish_slot(db_url)
    editor = FakeEditor(rpps, start)
    editor.base = "https://agenda.editeur.test"
    editor.hub_url = f"https://127.0.0.1:{running.port}/fhir"
    editor.hub_ca = str(ca.file)
    editor.cert = client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit)
    app: QApplication = make_app()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(drive(url, editor, slot_id, args.out))
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
