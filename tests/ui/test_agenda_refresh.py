"""Another desk's booking refreshes the agenda editor: the CPTS manager looking at a
doctor's agenda sees the slot an OSNP just booked as booked, without touching anything
(it used to stay "libre" until the manager reloaded)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.types import utcnow
from app.directory.models import Slot, Unavailability
from tests.ui.conftest import open_desk, until
from ui.controllers.search import SearchController


def test_a_booking_on_another_desk_refreshes_the_agenda_editor(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    territory: dict,
    cpts_manager: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    with sessions() as s:  # a free slot any desk may book, and its doctor
        soon = utcnow() + timedelta(hours=2)
        # Which slot comes first depends on the hour the test runs: it must be one the
        # OSNP's desk may book (not kept by a CPTS for itself, its doctor not on leave).
        on_leave = exists().where(
            Unavailability.effecteur_id == Slot.effecteur_id,
            Unavailability.start < Slot.end,
            Unavailability.end > Slot.start,
        )
        slot = s.scalars(
            select(Slot)
            .where(
                Slot.is_range.is_(False),
                Slot.booked == 0,
                Slot.status == "open",
                Slot.start > soon,
                Slot.visibility != "CPTS",
                ~on_leave,
            )
            .order_by(Slot.start)
        ).first()
        assert slot is not None
        slot_id, effecteur_id = slot.id, slot.effecteur_id

    async def scenario() -> None:
        cpts = await open_desk(hub_url, cpts_manager, tmp_path)
        osnp = await open_desk(hub_url, "osnp", tmp_path)
        for desk in (cpts, osnp):
            assert desk.window is not None
            qtbot.addWidget(desk.window)
        assert cpts.window is not None and cpts.window.agenda_editor is not None
        editor = cpts.window.agenda_editor
        qtbot.addWidget(editor)
        editor.effecteur_id = effecteur_id
        editor.reload()

        def places() -> str:
            for r in range(editor.model.rowCount()):
                if int(editor.model.item(r, 0).data(256)) == slot_id:
                    return str(editor.model.item(r, 4).text())
            return "absent"

        await until(lambda: places() == "libre", lambda: f"slot shown free (is {places()})")
        assert osnp.controller is not None
        search = next(c for c in osnp.controller.panels if isinstance(c, SearchController))
        refused: list[str] = []  # what the hub answered the OSNP, if it refused
        search.hub.error.connect(refused.append)
        search.book(slot_id)  # the OSNP's desk books it, as its "Réserver" button does
        await until(
            lambda: places() == "réservé",
            lambda: f"slot {slot_id} shown booked (is {places()}; hub refusals: {refused})",
        )
        await osnp.close()
        await cpts.close()
        editor.close()

    qloop.run_until_complete(scenario())
