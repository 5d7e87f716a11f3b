"""The first-run wizard walked from the keyboard, each step with a bad answer then a
good one: hub (address, unreachable, wss fingerprint refused then accepted), SIP
registration against the room's Kamailio (wrong password, then right: the password
lands in the keyring, not in a file), headset (a silent microphone, then one that is
heard), login (wrong password, then right: the wizard ends logged in, answers saved)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import numpy as np
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget, QWizard

from app.client.trust import PinStore
from app.config.desk import KEYRING_SERVICE, DeskSettings, load_desk_settings, sip_password
from app.config.settings import HubSettings, TlsSettings
from app.hub.tls import file_fingerprint
from app.room import Hub
from telephony.audio.device import AudioPort, SignalSource
from tests.certs import self_signed
from tests.conftest import PASSWORD
from tests.ui.conftest import type_text, until
from ui.wizard import SetupWizard
from ui.wizard_pages import tone


class MemoryKeyring(KeyringBackend):
    """The test's own keyring: nothing reaches the machine's."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("SASDESK_SIP_PASSWORD", raising=False)
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture(autouse=True)
def _close_wizards(qapp: QApplication) -> Iterator[None]:
    """Each test's wizard is closed and deleted with it, not left to later tests' event loops."""
    yield
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def _box() -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            return widget
    return None


def wizard_for(tmp_path: Path, audio: list[AudioPort], **kw: Any) -> SetupWizard:
    ports = iter(audio)
    wizard = SetupWizard(
        DeskSettings(),
        journal=tmp_path / "outbox.json",
        save_to=tmp_path / "desk.json",
        pins=PinStore(tmp_path / "pins.json"),
        audio_factory=lambda: next(ports),
        **kw,
    )
    wizard.show()
    return wizard


def enter(widget: QWidget) -> None:
    QTest.keyClick(widget, Qt.Key.Key_Return)


def next_page(wizard: QWizard) -> None:
    QTest.keyClick(wizard, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)


def test_the_wizard_from_hub_to_login_with_a_bad_and_a_good_answer_at_each_step(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path, hub_url: str, memory_keyring: MemoryKeyring
) -> None:
    speaking = SignalSource(tone(seconds=1.0, dbfs=-20.0), loop=True)
    wizard = wizard_for(tmp_path, [AudioPort(), speaking])

    async def walk() -> None:
        hub = wizard.hub_page
        await until(lambda: hub.url.hasFocus(), "the hub address has the focus")
        type_text(hub.url, "hub-de-la-salle:8765")
        enter(hub.url)
        await until(lambda: "Adresse invalide" in hub.result.text(), "bad address refused")
        assert not hub.isComplete()
        hub.url.clear()
        type_text(hub.url, "ws://127.0.0.1:1")
        enter(hub.url)
        await until(lambda: "Échec" in hub.result.text(), "unreachable hub reported")
        next_page(wizard)
        assert wizard.currentPage() is hub  # cannot go on without a hub
        hub.url.clear()
        type_text(hub.url, hub_url)
        enter(hub.url)
        await until(lambda: "Hub joint : sasdesk" in hub.result.text(), hub.result.text)
        assert "en clair" in hub.result.text()
        next_page(wizard)
        sip = wizard.sip_page
        await until(lambda: wizard.currentPage() is sip, "SIP page")
        assert not sip.isComplete()
        QTest.keyClick(sip, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # no SIP line
        await until(lambda: sip.none.isChecked() and sip.isComplete(), "no SIP line")
        next_page(wizard)
        headset = wizard.headset_page
        await until(lambda: wizard.currentPage() is headset, "headset page")
        QTest.keyClick(headset, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
        await until(lambda: "Aucun son du micro" in headset.result.text(), headset.result.text)
        assert not headset.isComplete() and headset.mic.value() == 0
        QTest.keyClick(headset, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)  # headset on
        await until(lambda: "Micro entendu" in headset.result.text(), headset.result.text)
        assert headset.isComplete() and headset.mic.value() > 30
        QTest.keyClick(headset, Qt.Key.Key_J, Qt.KeyboardModifier.AltModifier)  # test tone
        await until(lambda: headset.speaker.value() > 40, "the tone on the speaker meter")
        next_page(wizard)
        login = wizard.login_page
        assert login is not None
        await until(lambda: wizard.currentPage() is login, "login page")
        type_text(login.username, "n1")
        enter(login.username)
        type_text(login.password, "pas-le-bon")
        QTest.keyClick(wizard, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)  # "Se connecter"
        await until(lambda: login.result.text() not in ("", "Connexion…"), "refusal")
        assert wizard.isVisible() and wizard.client is not None and wizard.client.user is None
        login.password.clear()
        type_text(login.password, PASSWORD)
        enter(login.password)
        await until(lambda: not wizard.isVisible(), "the wizard closes once logged in")
        assert wizard.result() == QWizard.DialogCode.Accepted
        assert wizard.client is not None and wizard.client.user is not None
        await wizard.client.close()

    qloop.run_until_complete(walk())
    saved = load_desk_settings(tmp_path / "none.toml", tmp_path / "desk.json")
    assert saved == DeskSettings(
        hub_url=hub_url, sip_server="", sip_user="", use_headset=True, last_username="n1"
    )
    assert speaking.read().any()  # the source really was a sounding microphone


def test_every_hub_of_a_room_is_tried_and_the_desk_gets_them_all(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path, hub_url: str, memory_keyring: MemoryKeyring
) -> None:
    wizard = wizard_for(tmp_path, [])
    page = wizard.hub_page

    async def walk() -> None:
        type_text(page.url, f"{hub_url}, ws://127.0.0.1:1")
        enter(page.url)
        await until(lambda: "Échec" in page.result.text(), page.result.text)
        assert f"Hub joint ({hub_url})" in page.result.text() and not page.isComplete()
        page.url.setText(f"{hub_url}, {hub_url.replace('127.0.0.1', 'localhost')}")
        enter(page.url)
        await until(page.isComplete, page.result.text)
        assert wizard.client is not None and len(wizard.client.urls) == 2
        await wizard.client.close()
        wizard.reject()

    qloop.run_until_complete(walk())


def test_a_wss_hub_fingerprint_refused_then_accepted(
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    db_url: str,
    sessions: object,
    memory_keyring: MemoryKeyring,
) -> None:
    issued = self_signed(tmp_path)
    wizard = wizard_for(tmp_path, [])

    async def walk() -> None:
        hub = Hub(
            db_url,
            "127.0.0.1",
            0,
            settings=HubSettings(tls=TlsSettings(cert=issued.cert, key=issued.key)),
        )
        await hub.start()
        try:
            page = wizard.hub_page
            type_text(page.url, f"wss://127.0.0.1:{hub.port}")
            for answer in (QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes):
                enter(page.url)
                await until(lambda: _box() is not None, "the fingerprint question")
                box = _box()
                assert box is not None
                assert file_fingerprint(issued.cert) in box.informativeText()
                box.button(answer).click()
                if answer is QMessageBox.StandardButton.No:
                    await until(lambda: "Échec" in page.result.text(), page.result.text)
                    assert not page.isComplete()
            await until(page.isComplete, page.result.text)
            assert "Connexion chiffrée" in page.result.text()
            assert file_fingerprint(issued.cert) in page.result.text()
            assert wizard.client is not None
            await wizard.client.close()
        finally:
            await hub.stop()
            wizard.reject()

    qloop.run_until_complete(walk())


@pytest.mark.peers
def test_sip_registration_wrong_then_right_password_goes_to_the_keyring(
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from telephony.kamailio import Desk as RoomDesk
    from telephony.kamailio import KamailioRoom

    room = KamailioRoom([RoomDesk("poste12", "s3cret-sip", "n1")], domain="sas.local")
    room.start()
    try:
        _walk_sip(qloop, tmp_path, room, memory_keyring, monkeypatch)
    finally:
        room.cleanup()


def _walk_sip(
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    room: object,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from telephony.kamailio import KamailioRoom

    assert isinstance(room, KamailioRoom)
    wizard = wizard_for(tmp_path, [], with_login=False)
    sip = wizard.sip_page

    async def walk() -> None:
        wizard.next()  # the hub page is not under test here
        type_text(sip.server, "127.0.0.1")
        sip.port.setValue(room.port)
        type_text(sip.user, "poste12")
        sip.domain.setText(room.domain)
        type_text(sip.password, "pas-le-bon")
        enter(sip.password)
        await until(
            lambda: "refuse le compte poste12" in sip.result.text(), sip.result.text, timeout=30
        )
        assert not sip.isComplete() and memory_keyring.secrets == {}
        sip.password.clear()
        type_text(sip.password, "s3cret-sip")
        enter(sip.password)
        await until(lambda: "Ligne enregistrée" in sip.result.text(), sip.result.text, timeout=30)
        assert sip.isComplete()

    monkeypatch.setattr(wizard.hub_page, "isComplete", lambda: True)
    qloop.run_until_complete(walk())
    assert memory_keyring.secrets == {(KEYRING_SERVICE, "poste12@127.0.0.1"): "s3cret-sip"}
    wizard.headset_page.none.setChecked(True)
    wizard.accept()
    saved = json.loads((tmp_path / "desk.json").read_text())
    assert saved["sip_user"] == "poste12" and saved["sip_port"] == room.port
    assert "s3cret-sip" not in (tmp_path / "desk.json").read_text()
    assert (
        sip_password(load_desk_settings(tmp_path / "x.toml", tmp_path / "desk.json"))
        == "s3cret-sip"
    )


def test_no_sound_from_the_null_device() -> None:
    assert not np.any(AudioPort().read())
