"""Ctrl+Maj+S on a desk: the national platform's search for the open dossier opens in
the browser (the address the hub built from its [plateforme_sas]); nothing without a
dossier, and a hub without the section says so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.settings import PlatformSettings
from app.config.settings import HubSettings
from app.hub.embedded import EmbeddedHub
from tests.recordings.helpers import answered_call, logged
from tests.ui.conftest import focus, open_desk, until

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def platform_hub(db_url: str, sessions: sessionmaker[Session]) -> Iterator[str]:
    settings = HubSettings(sections=(PlatformSettings("https://sas.test", "LRM-17"),))
    hub = EmbeddedHub(db_url, settings=settings)
    yield hub.start()
    hub.stop()


def test_ctrl_shift_s_opens_the_platform_search_of_the_open_dossier(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, platform_hub: str, tmp_path: Path
) -> None:
    opened: list[str] = []

    async def scenario() -> None:
        n1 = await logged(platform_hub, "n1")
        dossier = await answered_call(n1, "qt-platform@room")
        await n1.close()
        desk = await open_desk(platform_hub, "sup", tmp_path, None)
        w, controller = desk.window, desk.controller
        assert w is not None and controller is not None
        qtbot.addWidget(w)

        def opener(url: str) -> bool:
            opened.append(url)
            return True

        controller.platform.opener = opener
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_S, CTRL_SHIFT)
        assert "Ouvrez d'abord" in w.message_label.text()
        controller.dossier.open(int(dossier["id"]), fetch=True)
        await until(lambda: controller.dossier.current_id is not None, "dossier open")
        qtbot.keyClick(w, Qt.Key.Key_S, CTRL_SHIFT)
        await until(lambda: bool(opened), "browser asked to open the search")
        await until(lambda: "plateforme SAS ouverte" in w.message_label.text(), "said")
        await desk.close()

    qloop.run_until_complete(scenario())
    parts = urlsplit(opened[0])
    assert (parts.netloc, parts.path) == ("sas.test", "/sas/recherche")
    assert parse_qs(parts.query)["origin"] == ["LRM-17"]


def test_a_hub_without_the_platform_says_so(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        n1 = await logged(hub_url, "n1")
        dossier = await answered_call(n1, "qt-platform-off@room")
        await n1.close()
        desk = await open_desk(hub_url, "sup", tmp_path, None)
        w, controller = desk.window, desk.controller
        assert w is not None and controller is not None
        qtbot.addWidget(w)
        controller.platform.opener = lambda url: pytest.fail(f"opened {url}")
        controller.dossier.open(int(dossier["id"]), fetch=True)
        await until(lambda: controller.dossier.current_id is not None, "dossier open")
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_S, CTRL_SHIFT)
        await until(lambda: "[plateforme_sas]" in w.message_label.text(), "refusal shown")
        await desk.close()

    qloop.run_until_complete(scenario())
