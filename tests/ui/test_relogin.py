"""When the hub ends a desk's session, the desk asks the same user's password again and
keeps the dossier on screen; a wrong password is refused with the hub's message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient, HubError, LinkState
from tests.conftest import PASSWORD
from tests.ui.conftest import open_desk, until


def test_an_ended_session_asks_the_password_again_and_keeps_the_dossier(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path)
        w = desk.window
        assert w is not None and desk.controller is not None
        qtbot.addWidget(w)
        await desk.client.request("call.offered", call_ref="relogin-1", line="15")
        d = (await desk.client.request("call.answered", call_ref="relogin-1"))["dossier"]
        desk.controller.dossier.open(d["id"], fetch=True)
        await until(lambda: (w.dossier_form.dossier or {}).get("id") == d["id"], "dossier shown")
        # The token is logged out elsewhere (as after a logout on another desk).
        other = HubClient(hub_url, reconnect=False)
        await other.connect()
        await other.request("resume", token=desk.client._token)
        await other.request("logout")
        await until(lambda: desk.relogin is not None and desk.relogin.isVisible(), "dialog")
        dialog = desk.relogin
        assert dialog is not None
        assert "déconnecté" in dialog.reason.text()
        assert (w.dossier_form.dossier or {}).get("id") == d["id"]  # still on screen
        await until(lambda: desk.client.state is LinkState.CONNECTED, "socket back")
        qtbot.keyClicks(dialog.password, "pas-le-bon")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        await until(lambda: "incorrect" in dialog.message.text(), "refusal shown")
        assert dialog.isVisible()
        qtbot.keyClicks(dialog.password, PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        await until(lambda: desk.relogin is None and not dialog.isVisible(), "dialog closed")
        await until(lambda: desk.client.state is LinkState.READY, "logged in again")
        assert (w.dossier_form.dossier or {}).get("id") == d["id"]
        got = await desk.client.request("dossier.get", dossier_id=d["id"])
        assert got["dossier"]["number"] == d["number"]
        await other.close()
        await desk.close()

    qloop.run_until_complete(scenario())


def test_the_supervisor_is_told_when_wrong_passwords_lock_an_account(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    db_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    from app.config.settings import HubSettings, SessionSettings
    from app.room.embedded import EmbeddedHub

    strict = HubSettings(sessions=SessionSettings(throttle_after=100, lock_after=2))
    hub = EmbeddedHub(db_url, settings=strict)
    url = hub.start()

    async def scenario() -> None:
        desk = await open_desk(url, "sup", tmp_path)
        w = desk.window
        assert w is not None
        qtbot.addWidget(w)
        guesser = HubClient(url, reconnect=False)
        await guesser.connect()
        for _ in range(2):
            try:
                await guesser.login("n1", "devine")
            except HubError as exc:
                assert exc.code == "bad_credentials"
        await until(lambda: "Connexion bloquée" in w.message_label.text(), "alert shown")
        assert "2 mots de passe erronés pour le compte « n1 »" in w.message_label.text()
        await guesser.close()
        await desk.close()

    try:
        qloop.run_until_complete(scenario())
    finally:
        hub.stop()
