"""When the hub ends a desk's session, the desk asks the same user's password again and
keeps the dossier on screen; a wrong password is refused with the hub's message."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.client.hub_client import HubClient, LinkState
from tests.conftest import PASSWORD
from tests.ui.conftest import open_desk, until


def test_an_ended_session_asks_the_password_again_and_keeps_the_dossier(
    qloop, qtbot, hub_url, sessions, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path)
        w = desk.window
        assert w is not None and desk.controller is not None
        qtbot.addWidget(w)
        await desk.client.request("call.offered", call_ref="relogin-1", line="15")
        d = (await desk.client.request("call.answered", call_ref="relogin-1"))["dossier"]
        desk.controller.open_dossier(d["id"], fetch=True)
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
