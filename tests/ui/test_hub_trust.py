"""The desk asks once about a self-signed hub, and warns when a hub runs without TLS."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app.client.hub_client import HubClient
from app.client.trust import HubTrust, PinStore
from app.config.settings import HubSettings, TlsSettings
from app.hub.tls import file_fingerprint
from app.room import Hub
from tests.certs import self_signed
from tests.ui.conftest import until
from ui.login import LoginDialog
from ui.trust_dialog import confirm_fingerprint


def _box() -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            return widget
    return None


def test_a_self_signed_hub_is_trusted_after_the_user_compares_its_fingerprint(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path, db_url: str, sessions: object
) -> None:
    issued = self_signed(tmp_path)
    pins = PinStore(tmp_path / "pins.json")

    async def scenario() -> None:
        hub = Hub(
            db_url,
            "127.0.0.1",
            0,
            settings=HubSettings(tls=TlsSettings(cert=issued.cert, key=issued.key)),
        )
        await hub.start()
        try:
            client = HubClient(hub.url, trust=HubTrust(pins=pins, confirm=confirm_fingerprint))
            connecting = asyncio.ensure_future(client.connect())
            await until(lambda: _box() is not None, "the fingerprint question")
            box = _box()
            assert box is not None
            assert file_fingerprint(issued.cert) in box.informativeText()
            box.button(QMessageBox.StandardButton.Yes).click()
            welcome = await connecting
            assert welcome["tls"] is True
            assert pins.get(f"127.0.0.1:{hub.port}") == file_fingerprint(issued.cert)
            dialog = LoginDialog(client)
            assert dialog.findChild(QLabel, "insecureWarning") is None
            await client.close()
        finally:
            await hub.stop()

    qloop.run_until_complete(scenario())


def test_login_screen_warns_about_an_insecure_hub(
    qloop: asyncio.AbstractEventLoop, db_url: str, sessions: object
) -> None:
    async def scenario() -> None:
        hub = Hub(db_url, "0.0.0.0", 0, settings=HubSettings(tls=TlsSettings(insecure=True)))
        await hub.start()
        try:
            client = HubClient(f"ws://127.0.0.1:{hub.port}")
            await client.connect()
            dialog = LoginDialog(client)
            warning = dialog.findChild(QLabel, "insecureWarning")
            assert warning is not None and "connexion non chiffrée" in warning.text()
            await client.close()
        finally:
            await hub.stop()

    qloop.run_until_complete(scenario())
