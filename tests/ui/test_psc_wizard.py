"""The first-run wizard in a room with Pro Santé Connect: its login step offers PSC beside
the password (Ctrl+Tab), the doctor comes in with the code shown, and the wizard saves
the account and the national identifier for the next login on this PC."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard

from app.bench.psc_double import PscDouble
from app.client.trust import PinStore
from app.config.desk import DeskSettings, load_desk_settings
from tests.ui.conftest import type_text, until
from tests.ui.psc_room import MRL_ID, approve
from ui.wizard import SetupWizard


def test_the_wizard_logs_in_with_psc_and_remembers_the_identifier(
    qloop: asyncio.AbstractEventLoop,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    saved_to = tmp_path / "desk.json"

    async def walk(url: str) -> None:
        # No SIP account and no headset on this desk: the pages are complete at once.
        settings = DeskSettings(hub_url=url, use_headset=False)
        wizard = SetupWizard(
            settings, save_to=saved_to, pins=PinStore(tmp_path / "pins.json"), parent=None
        )
        wizard.show()
        QTest.keyClick(wizard.hub_page.url, Qt.Key.Key_Return)  # test the hub
        await until(wizard.hub_page.isComplete, wizard.hub_page.result.text)
        wizard.sip_page.none.setChecked(True)
        page = wizard.login_page
        assert page is not None
        for after in (wizard.sip_page, wizard.headset_page, page):
            wizard.next()  # the pages' own keys are the other wizard test's
            await until(lambda: wizard.currentPage() is after, after.title())  # noqa: B023
        assert page.psc is not None and page.tabs.count() == 2
        assert page.tabs.currentIndex() == 0  # nobody proved an identifier here yet
        assert not page.tabs.tabBar().isHidden()
        QTest.keyClick(page.tabs, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: page.tabs.currentWidget() is page.psc, "PSC tab by Ctrl+Tab")
        assert not page.isComplete()  # no identifier typed yet
        type_text(page.psc.national_id, MRL_ID)
        assert page.isComplete()
        QTest.keyClick(page.psc.national_id, Qt.Key.Key_Return)  # « Se connecter »
        await until(lambda: page.psc is not None and page.psc.code.text(), page.result.text)
        assert page.psc.code.text().endswith(psc.ciba_requests[-1]["binding_message"])
        approve(psc, MRL_ID)
        await until(lambda: not wizard.isVisible(), "the wizard closes once logged in")
        assert wizard.result() == QWizard.DialogCode.Accepted
        client = wizard.client
        assert client is not None and client.user is not None and client.auth == "psc"
        await client.close()

    qloop.run_until_complete(walk(psc_url))
    saved = load_desk_settings(tmp_path / "none.toml", saved_to)
    assert saved.last_username == "mrl" and saved.last_national_id == MRL_ID
    assert saved.hub_url == psc_url and not saved.has_sip
