"""The OSNP's desk before and after « Réserver » on an editor's slot: the row and the
button say the booking is made on the editor's page, Enter opens that page in the
system browser (intercepted at Qt's URL handlers) with origin=sas and nothing about the
patient, the dossier shows the booking « en attente de l'agenda », and the editor's
appointment (posted over mutual TLS by the fake editor) turns it « Réservé »."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtCore import Slot as QtSlot
from PySide6.QtGui import QDesktopServices, QStandardItem
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.hub import endpoint
from app.appointments.settings import AppointmentSettings, EditorCertificate
from app.config.settings import HubSettings
from app.db.models import User
from app.directory.models import Booking, Effecteur, Slot, Unavailability
from app.hub.auth import Principal
from app.hub.embedded import EmbeddedHub
from app.hub.service import FlowService
from tests.appointments.fake_editor import FakeEditor
from tests.certs import Authority, client_certificate
from tests.ui.conftest import focus, open_desk, oriented_task, seed_territory, until
from ui.widgets.search_panel import AT_EDITOR, BOOK_TEXT, KIND, PAYLOAD

EDITOR = EditorCertificate("agenda-test", common_name="agenda.editeur.test", unit="Editeur Test")
PAGE = "https://agenda.editeur.test/rdv/42"
OSNP_ID = "810009876543"


class Browser(QObject):
    """Stands for the system browser: Qt hands it every https address opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @QtSlot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@dataclass
class Room:
    url: str
    editor: FakeEditor
    slot_id: int
    doctor: str


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser()
    # The stubs ask for bytes, the binding takes the slot's name as a str.
    QDesktopServices.setUrlHandler("https", b, cast(bytes, "open"))
    yield b
    QDesktopServices.unsetUrlHandler("https")


@pytest.fixture
def room(db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Room]:
    territory = seed_territory(sessions)
    mt = next(e for e in territory["effecteurs"] if e["practice"]["commune_insee"] == "17300")
    with sessions.begin() as s:
        away = select(Unavailability.effecteur_id)
        slot = s.scalars(
            select(Slot)
            .join(Effecteur, Effecteur.id == Slot.effecteur_id)
            .where(Slot.status == "open", Slot.visibility == "SNP", Slot.capacity == 1)
            .where(Slot.start > datetime.now(UTC), Slot.booked == 0)
            .where(Effecteur.rpps != mt["rpps"], Slot.effecteur_id.not_in(away))
            .order_by(Slot.start)
        ).first()
        assert slot is not None, "a free SNP slot in the demo territory"
        doctor = s.get(Effecteur, slot.effecteur_id)
        assert doctor is not None and doctor.rpps
        slot.comment = PAGE  # the editor publishes it: its booking page in the comment
        slot_id, start, rpps = slot.id, slot.start, doctor.rpps
        s.execute(update(User).where(User.username == "osnp").values(national_id=OSNP_ID))
    ca = Authority(tmp_path / "igc")
    server = ca.issue("rdv")
    settings = HubSettings(
        sections=(AppointmentSettings(server.cert, server.key, ca.file, (EDITOR,), port=0),)
    )
    hub = EmbeddedHub(db_url, settings=settings)
    url = hub.start()
    running = endpoint(hub.hub)
    assert running is not None
    editor = FakeEditor(rpps, start)
    editor.base = "https://agenda.editeur.test"
    editor.hub_url = f"https://127.0.0.1:{running.port}/fhir"
    editor.hub_ca = str(ca.file)
    editor.cert = client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit)
    yield Room(url, editor, slot_id, mt["last_name"])
    hub.stop()


def find_slot(item: QStandardItem | None, slot_id: int) -> QStandardItem | None:
    # PAYLOAD is read on slots only: every slot has one (reading a role left empty,
    # over and over, trips a PySide6 reference count bug on None).
    if item is None:
        return None
    if item.data(KIND) == "slot":
        return item if item.data(PAYLOAD)["id"] == slot_id else None
    for r in range(item.rowCount()):
        found = find_slot(item.child(r), slot_id)
        if found is not None:
            return found
    return None


def test_the_editors_slot_is_booked_on_its_page_and_stays_pending_until_the_editor_says(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    room: Room,
    browser: Browser,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    d, _task = oriented_task(service, people, f"Dr {room.doctor}")

    async def scenario() -> None:
        osnp = await open_desk(room.url, "osnp", tmp_path)
        w = osnp.window
        assert w is not None and w.search_panel and w.tasks_model and w.task_panel
        qtbot.addWidget(w)
        tasks, panel = w.tasks_model, w.search_panel
        await until(lambda: tasks.rowCount() == 1, "task listed")
        w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
        w.task_panel.request_take()
        await until(lambda: w.dossier_form.dossier is not None, "dossier shown")
        await focus(osnp)
        qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)

        def row() -> QStandardItem | None:
            for r in range(panel.model.rowCount()):
                found = find_slot(panel.model.item(r), room.slot_id)
                if found is not None:
                    return found
            return None

        await until(lambda: panel.model.rowCount() > 0, "search results")
        item = row()
        assert item is not None, f"slot {room.slot_id} not in {panel.last}"
        # Before any click: which case applies, in the row and on the button.
        assert "page de l'éditeur" in item.text()
        assert item.toolTip() == AT_EDITOR.capitalize()
        doctor_row = item.parent()
        part = panel.model.item(doctor_row.row(), panel.model.columnCount() - 4)
        assert AT_EDITOR in part.text()
        panel.tree.setCurrentIndex(item.index())
        assert panel.book_button.text() == BOOK_TEXT["editor"]

        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
        await until(lambda: browser.opened, "the booking page opened in the browser")
        (opened,) = browser.opened
        assert opened.startswith(PAGE)
        assert parse_qs(urlsplit(opened).query) == {"origin": ["sas"]}
        assert "Zo" not in opened
        await until(lambda: "En attente de l'agenda" in w.message_label.text(), "pending said")
        assert "Réservé" not in w.message_label.text()
        timeline = w.timeline

        def lines() -> list[str]:
            return [timeline.item(i).text() for i in range(timeline.count())]

        await until(
            lambda: any("en attente de l'agenda" in x for x in lines()), lambda: str(lines())
        )

        # The editor's appointment comes back: the desk says « Réservé ».
        answer = await room.editor.book("ed-0", regulator=OSNP_ID)
        assert answer.status_code == 201, answer.text
        await until(lambda: "Réservé" in w.message_label.text(), "confirmation shown")
        await until(
            lambda: any("Réservé, confirmé par l'agenda" in x for x in lines()),
            lambda: str(lines()),
        )
        await osnp.close()

    qloop.run_until_complete(scenario())
    with sessions() as s:
        booking = s.scalar(select(Booking).where(Booking.slot_id == room.slot_id))
        assert booking is not None and booking.dossier_id == d["id"]
        assert booking.agenda_status == "booked"
