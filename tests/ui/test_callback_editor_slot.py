"""An accepted call on an editor's slot, from the OSNP's call-back panel on the real
desk: the hub records the booking pending at the editor (no place of ours), and the
desk opens the editor's booking page in the browser (``origin=sas``, nothing about the
patient) and says it waits for the agenda."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.callback.vocab import AttemptResult
from app.directory.models import Booking, Slot, bump_revision
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.ui.conftest import open_desk, oriented_task, seed_territory, until

PAGE = "https://agenda.editeur.test/rdv/42"


def test_accepted_on_an_editors_slot_opens_its_page_and_waits_for_the_agenda(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    seed_territory(sessions)
    with sessions.begin() as s:  # every published slot is an editor's
        s.execute(update(Slot).values(comment=PAGE, rev=bump_revision(s)))
    d, _task = oriented_task(service, people, "Dr Inconnu")
    opened: list[str] = []

    async def scenario() -> None:
        desk = await open_desk(hub_url, "osnp", tmp_path, None)
        w = desk.window
        assert w is not None and w.callback_panel is not None and w.task_panel is not None
        assert desk.controller is not None and desk.controller.callback is not None
        desk.controller.callback.open_url = lambda url: opened.append(QUrl(url).toString())
        qtbot.addWidget(w)
        panel, tasks = w.callback_panel, w.tasks_model
        assert tasks is not None
        await until(lambda: tasks.rowCount() == 1, "task listed")
        w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
        w.task_panel.request_take()
        await until(lambda: panel.model.rowCount() > 0, "the plan is shown")
        slot_target = next(r for r in panel.model.rows if r["kind"] == "CRENEAU")
        panel.select_target(slot_target["id"])
        panel.result_buttons[AttemptResult.ACCEPTED].click()
        await until(lambda: opened, "the editor's page opened")
        await until(lambda: "En attente de l'agenda" in w.message_label.text(), "pending said")
        await desk.close()

    qloop.run_until_complete(scenario())
    assert opened == [PAGE + "?origin=sas"]
    with sessions() as s:
        [booking] = s.scalars(select(Booking).where(Booking.dossier_id == d["id"])).all()
        assert (booking.agenda_status, booking.booking_page) == ("pending", opened[0])
        slot = s.get(Slot, booking.slot_id)
        assert slot is not None and slot.booked == 0
