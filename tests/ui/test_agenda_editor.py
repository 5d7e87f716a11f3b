"""The CPTS manager keeps an effecteur's agenda from the desk: a weekly "0/5" range,
a capacity change, a cancelled slot, an absence."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QTime
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.models import Slot, Unavailability
from app.hub.events import EventName
from app.hub.protocol import IntentName
from tests.ui.conftest import open_desk, until
from ui.controllers.agenda import AgendaController


def test_cpts_manager_creates_updates_cancels_and_adds_an_absence(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    territory: dict,
    cpts_manager: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    target = territory["effecteurs"][0]

    async def scenario() -> int:
        desk = await open_desk(hub_url, cpts_manager, tmp_path)
        assert desk.window is not None and desk.window.agenda_editor is not None
        qtbot.addWidget(desk.window)
        editor = desk.window.agenda_editor
        qtbot.addWidget(editor)
        desk.window.trigger("open_agendas")
        await until(lambda: editor.people.count() > 0, "effecteurs listed")
        editor.filter.setText(target["last_name"])
        editor.search()
        await until(
            lambda: (
                editor.people.count() >= 1 and target["last_name"] in editor.people.item(0).text()
            ),
            "filtered",
        )
        editor.people.setCurrentRow(0)
        await until(lambda: target["last_name"] in editor.title.text(), "agenda shown")
        before = editor.model.rowCount()

        # From now on, count what the editor asks the hub, and the agenda events this
        # desk receives: each change's reply and event carry its slots (or absence), so
        # the agenda on screen is never read again (it was twice per change).
        assert desk.controller is not None
        agenda = next(c for c in desk.controller.panels if isinstance(c, AgendaController))
        sent: list[object] = []
        send = agenda.hub.send

        async def counted(intent: Any, *args: Any, **fields: Any) -> Any:
            sent.append(intent)
            return await send(intent, *args, **fields)

        agenda.hub.send = counted  # type: ignore[method-assign,assignment]
        changes: list[str] = []
        desk.controller.bus.on(
            EventName.AGENDA_CHANGED, lambda msg: changes.append(str(msg["data"]["action"]))
        )

        tomorrow = QDate.currentDate().addDays(1)
        editor.day.setDate(tomorrow)
        editor.start.setTime(QTime(16, 45))
        editor.end.setTime(QTime(18, 0))
        editor.capacity.setValue(5)
        editor.weeks.setValue(2)
        editor.create_slot()
        await until(lambda: editor.model.rowCount() > before, "the range appears")
        row = next(
            r
            for r in range(editor.model.rowCount())
            if editor.model.item(r, 4).text() == "0/5" and editor.model.item(r, 1).text() == "16:45"
        )
        slot_id = int(editor.model.item(row, 0).data(256))

        editor.table.selectRow(row)
        editor.new_capacity.setValue(6)
        editor.update_capacity()
        await until(
            lambda: any(
                editor.model.item(r, 4).text() == "0/6" for r in range(editor.model.rowCount())
            ),
            "capacity changed",
        )

        editor.absence_from.setDate(QDate.currentDate().addDays(20))
        editor.absence_to.setDate(QDate.currentDate().addDays(27))
        editor.absence_reason.setText("congés")
        editor.add_absence()
        await until(lambda: editor.absences.count() == 1, "absence listed")
        await until(
            lambda: changes == ["created", "updated", "unavailability_added"],
            lambda: f"this desk's agenda events ({changes})",
        )
        assert sent == [
            IntentName.AGENDA_SLOT_CREATE,
            IntentName.AGENDA_SLOT_UPDATE,
            IntentName.AGENDA_UNAVAILABILITY_ADD,
        ], sent
        assert not agenda._reload.isActive()  # nor a reload waiting to go
        await desk.close()
        editor.close()
        return slot_id

    slot_id = qloop.run_until_complete(scenario())
    with sessions() as s:
        slot = s.get(Slot, slot_id)
        assert slot is not None and slot.capacity == 6 and slot.is_range
        weekly = s.scalars(
            select(Slot).where(Slot.effecteur_id == slot.effecteur_id, Slot.capacity.in_([5, 6]))
        ).all()
        assert len(weekly) >= 2, "weekly recurrence created the second week too"
        assert (
            s.scalar(select(Unavailability).where(Unavailability.effecteur_id == slot.effecteur_id))
            is not None
        )
