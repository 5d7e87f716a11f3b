"""« Poste › Changer mon mot de passe… »: each refusal is said in French in the dialog
(empty field, the two new ones differ, wrong current password, too weak), then the
change is made by the hub and the new password logs in."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient, HubError
from tests.conftest import PASSWORD
from tests.ui.conftest import open_desk, type_text, until

NEW = "Régul@tion-15-SAS"


def test_a_user_changes_their_password_from_the_menu(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path)
        w = desk.window
        assert w is not None
        qtbot.addWidget(w)
        menus = {m.title(): m for m in w.menuBar().findChildren(QMenu)}
        entry = next(a for a in menus["Poste"].actions() if a.objectName() == "change_password")
        assert entry.text() == "Changer mon mot de passe…"
        entry.trigger()
        await until(lambda: desk.password_dialog is not None, "dialog")
        dialog = desk.password_dialog
        assert dialog is not None and dialog.isVisible()

        def submit(old: str, new: str, again: str) -> None:
            for field, text in ((dialog.old, old), (dialog.new, new), (dialog.again, again)):
                field.clear()
                type_text(field, text)
            qtbot.keyClick(dialog.again, Qt.Key.Key_Return)

        submit("", NEW, NEW)
        await until(lambda: dialog.message.text() == "Saisissez votre mot de passe actuel.")
        submit(PASSWORD, NEW, NEW + "x")
        await until(lambda: "diffèrent : rien n'a changé" in dialog.message.text())
        submit("pas-le-bon", NEW, NEW)
        await until(lambda: "Ancien mot de passe incorrect" in dialog.message.text())
        assert dialog.old.text() == "" and dialog.isVisible()
        submit(PASSWORD, "Court-1", "Court-1")
        await until(lambda: "Mot de passe trop court" in dialog.message.text(), dialog.message.text)
        assert dialog.new.text() == "" and dialog.isVisible()
        shot = os.environ.get("SASDESK_SHOTS")
        if shot:  # looked at by hand: the French labels, the policy and the refusal
            dialog.grab().save(str(Path(shot) / "password_dialog.png"))
        submit(PASSWORD, NEW, NEW)
        await until(lambda: not dialog.isVisible() and desk.password_dialog is None, "closed")
        assert w.message_label.text() == "Mot de passe changé."
        # The desk works on; the hub now takes the new password only.
        await desk.client.request("call.offered", call_ref="after-password", line="15")
        other = HubClient(hub_url, reconnect=False)
        await other.connect()
        with pytest.raises(HubError) as refused:
            await other.login("n1", PASSWORD)
        assert refused.value.code == "bad_credentials"
        await other.login("n1", NEW)
        await other.close()
        await desk.close()

    qloop.run_until_complete(scenario())
