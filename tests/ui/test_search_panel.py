"""The docked slot search: from the OSNP's dossier, book with Enter, other desks refresh."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.models import Booking
from app.directory.protocol import DirectorySearch, SlotBook
from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.ui.conftest import focus, open_desk, oriented_task, until
from ui.widgets.search_panel import KIND, PAYLOAD


def test_osnp_searches_books_with_enter_and_the_other_desk_refreshes(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    mt: dict,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    d, task = oriented_task(service, people, f"Dr {mt['last_name']}")

    async def scenario() -> int:
        osnp = await open_desk(hub_url, "osnp", tmp_path)
        other = await open_desk(hub_url, "osnp2", tmp_path)
        w, w2 = osnp.window, other.window
        assert w and w2 and w.search_panel and w2.search_panel
        tasks, task_panel, panel2 = w.tasks_model, w.task_panel, w2.search_panel
        assert tasks is not None and task_panel is not None
        for x in (w, w2):
            qtbot.addWidget(x)
        await until(lambda: tasks.rowCount() == 1, "task listed")
        task_panel.table.setCurrentIndex(tasks.index(0, 0))
        task_panel.request_take()
        await until(lambda: w.dossier_form.dossier is not None, "dossier shown")

        await focus(osnp)
        qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        panel = w.search_panel
        await until(
            lambda: panel.model.rowCount() > 0,
            lambda: f"search results ({w.message_label.text()!r}, {panel.summary.text()!r})",
        )
        # The commune's CPTS heads the list (tests/ui/test_search_cpts.py), then doctors.
        row = next(
            r for r in range(panel.model.rowCount()) if panel.model.item(r).data(KIND) == "doctor"
        )
        first = panel.model.item(row)
        assert first.text().startswith("★") and mt["last_name"] in first.text(), (
            "the patient's own doctor comes first"
        )
        assert panel.model.item(row, 1).text() == "Médecin traitant"
        assert "médecin(s)" in panel.summary.text()
        # The first bookable slot of the list, reached from the keyboard.
        target = next(
            panel.model.item(r)
            for r in range(panel.model.rowCount())
            if panel.model.item(r).data(KIND) == "doctor" and panel.model.item(r).rowCount()
        )
        slot_item = target.child(0)
        slot = slot_item.data(PAYLOAD)
        panel.tree.setCurrentIndex(slot_item.index())

        panel2.search_requested.emit({})  # the other OSNP has a list open
        await until(lambda: panel2.model.rowCount() > 0, "other desk results")
        before = panel2.summary.text()
        assert before

        # Count what the booking desk asks the hub from now on: the reply and the event
        # carry the slot as it now stands, so at most one search follows a booking.
        assert osnp.controller is not None and osnp.controller.search is not None
        bridge = osnp.controller.search.hub
        sent: list[object] = []
        send = bridge.send

        async def counted(intent: Any, *args: Any, **fields: Any) -> Any:
            sent.append(intent)
            return await send(intent, *args, **fields)

        bridge.send = counted  # type: ignore[method-assign,assignment]
        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
        await until(lambda: "Réservé" in w.message_label.text(), "booking confirmed")
        await until(lambda: not panel_holds(panel, slot), "the booking desk's list follows")
        await asyncio.sleep(1.0)  # past the 300 ms merge of a search the event may ask for
        assert sent.count(SlotBook) == 1
        assert sent.count(DirectorySearch) <= 1, sent

        await until(lambda: not panel_holds(panel2, slot), "the other desk's list refreshed")
        for desk in (osnp, other):
            await desk.close()
        return int(slot["id"])

    slot_id = qloop.run_until_complete(scenario())
    with sessions() as s:
        booking = s.scalar(select(Booking).where(Booking.slot_id == slot_id))
        assert booking is not None and booking.dossier_id == d["id"]
    assert task["id"]


def panel_holds(panel: Any, slot: dict[str, Any]) -> bool:
    """Whether the list still shows ``slot`` as it was before its booking."""
    stack = [panel.model.item(r) for r in range(panel.model.rowCount())]
    while stack:
        item = stack.pop()
        payload = item.data(PAYLOAD) or {}
        if item.data(KIND) == "slot" and payload.get("id") == slot["id"]:
            return payload["booked"] != slot["booked"] + 1  # a range: one more taken
        stack.extend(item.child(r) for r in range(item.rowCount()))
    return False  # a single slot, or a full range: gone from the list
