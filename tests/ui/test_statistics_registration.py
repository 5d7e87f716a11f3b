"""The supervisor's statistics show the SAS registration rate of the department (seed
001: "x médecins inscrits = y % des z médecins installés du département")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from tests.ui.conftest import open_desk, until

TITLE = "Médecins inscrits au SAS par département"


def test_supervisor_sees_the_registration_rate(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    territory: dict,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    gps = [
        e
        for e in territory["effecteurs"]
        if e.get("specialty", "Médecine générale") == "Médecine générale"
        and e.get("profession", "Médecin") == "Médecin"
    ]
    registered = sum(1 for e in gps if e.get("sas_participant"))
    assert 0 < registered < len(gps)

    async def scenario() -> None:
        desk = await open_desk(hub_url, "sup", tmp_path)
        assert desk.window is not None and desk.window.statistics is not None
        qtbot.addWidget(desk.window)
        stats = desk.window.statistics
        stats.request()
        await until(lambda: stats.list.count() > 0, "report tables")
        titles = [stats.list.item(i).text() for i in range(stats.list.count())]
        stats.list.setCurrentRow(titles.index(TITLE))
        headers = [
            stats.model.headerData(c, Qt.Orientation.Horizontal)
            for c in range(stats.model.columnCount())
        ]
        assert headers[:4] == [
            "Département", "Médecins inscrits", "Médecins installés", "Taux d'inscription",
        ]  # fmt: skip
        row = [stats.model.item(0, c).text() for c in range(4)]
        rate = f"{registered / len(gps) * 100:.1f} %".replace(".", ",")
        assert row == ["17", str(registered), str(len(gps)), rate]
        assert f"{registered} médecin(s) inscrit(s) au SAS = {rate}" in stats.summary.text()
        await desk.close()

    qloop.run_until_complete(scenario())
