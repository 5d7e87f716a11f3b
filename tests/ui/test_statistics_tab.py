"""The month's tables in the supervisor's desk, from the hub, filtered and exported."""

from __future__ import annotations

import asyncio
import csv
from datetime import date
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.flow.service import FlowService
from app.hub.auth import Principal
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier
from tests.ui.conftest import open_desk, seed_territory, until


def test_supervisor_sees_the_month_filters_a_territory_and_exports(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
) -> None:
    seed_territory(sessions, directory=False)
    n1, mrl, osnp = (Actor(service, people[n]) for n in ("n1", "mrl", "osnp"))
    for n in range(3):  # three SNP dossiers in La Rochelle, two end with the MT
        dossier_id = snp_dossier(n1, mrl, ref=f"stats-{n}")
        task = mrl.send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
        osnp.send("task.take", task_id=task["id"])
        if n < 2:
            osnp.send(
                "task.close",
                task_id=task["id"],
                outcome="RDV_MT",
                appointment={"with": "Dr Aubert", "at": "2030-01-01T10:00:00+00:00"},
            )
        else:
            osnp.send(
                "task.close",
                task_id=task["id"],
                outcome="SANS_SOLUTION",
                no_solution_reason="AUCUN_CRENEAU",
            )

    async def scenario() -> None:
        desk = await open_desk(hub_url, "sup", tmp_path)
        assert desk.window is not None and desk.window.statistics is not None
        qtbot.addWidget(desk.window)
        stats = desk.window.statistics
        assert stats.month.currentData() == date.today().strftime("%Y-%m")
        stats.request()
        await until(
            lambda: stats.list.count() > 0, lambda: f"report tables ({stats.summary.text()!r})"
        )
        titles = [stats.list.item(i).text() for i in range(stats.list.count())]
        assert len(titles) >= 3
        stats.list.setCurrentRow(0)  # the seed-003 daily table
        import calendar

        today = date.today()
        weekdays = sum(
            1
            for d in range(1, calendar.monthrange(today.year, today.month)[1] + 1)
            if date(today.year, today.month, d).weekday() < 5
        )
        assert stats.model.rowCount() >= weekdays and stats.model.columnCount() > 3
        grouped = [stats.territory.itemData(i) for i in range(1, stats.territory.count())]
        if grouped:
            before = stats.model.columnCount()
            stats.territory.setCurrentIndex(1)
            stats.show_table()
            assert 0 < stats.model.columnCount() < before
        out = tmp_path / "mois.csv"
        table = stats.current_table()
        assert table is not None
        stats.export_to(out, table)
        rows = list(csv.reader(out.open(encoding="utf-8-sig"), delimiter=";"))
        assert len(rows) == stats.model.rowCount() + 1
        assert len(rows[0]) == stats.model.columnCount()
        await desk.close()

    qloop.run_until_complete(scenario())
