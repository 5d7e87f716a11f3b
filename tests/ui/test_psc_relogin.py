"""A doctor who came in with Pro Santé Connect and whose session ended re-proves with PSC,
the account's identifier fixed, the dossier kept on screen; the status bar names the
account, its national identifier and how it was proven; the supervisor's desk says when
someone who must use PSC came in with a password and why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.bench.psc_double import PscDouble
from app.client.hub_client import HubClient, HubError, LinkState
from tests.conftest import PASSWORD
from tests.ui.conftest import open_desk, until
from tests.ui.psc_room import FOREVER, MRL_ID, approve
from ui.desk import Desk
from ui.psc_text import AUTH


async def psc_desk(url: str, psc: PscDouble, tmp_path: Path) -> Desk:
    """The MRL's desk, logged in with PSC through the client's calls."""
    client = HubClient(url, desk="poste-mrl", journal=tmp_path / "mrl.json")
    await client.connect()
    started = await client.psc_start(MRL_ID)
    approve(psc, MRL_ID)
    client.adopt(await client.psc_wait(started["request"], started["expires_in"]))
    desk = Desk(client, None)
    desk.build().show()
    return desk


@pytest.mark.psc_room(pkce=True)
def test_a_psc_session_that_ended_is_proven_again_with_psc_keeping_the_dossier(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    async def scenario(url: str) -> None:
        desk = await psc_desk(url, psc, tmp_path)
        w = desk.window
        assert w is not None and desk.controller is not None
        qtbot.addWidget(w)
        assert w.account_label.text() == (
            f"mrl (Médecin régulateur libéral) (mrl) — identifiant national {MRL_ID} — "
            "connecté par Pro Santé Connect"
        )
        n1 = HubClient(url, reconnect=False)
        await n1.connect()
        await n1.login("n1", PASSWORD)
        await n1.request("call.offered", call_ref="psc-relogin", line="116117")
        d = (await n1.request("call.answered", call_ref="psc-relogin"))["dossier"]
        await n1.request("dossier.qualify", dossier_id=d["id"], priority="P2")
        await desk.client.request("dossier.take", dossier_id=d["id"])
        desk.controller.dossier.open(d["id"], fetch=True)
        await until(lambda: (w.dossier_form.dossier or {}).get("id") == d["id"], "dossier shown")
        # The session ends (here: its token logged out elsewhere, as idle expiry does).
        other = HubClient(url, reconnect=False)
        await other.connect()
        await other.request("resume", token=desk.client._token)
        await other.request("logout")
        await until(lambda: desk.relogin is not None and desk.relogin.isVisible(), "dialog")
        dialog = desk.relogin
        assert dialog is not None and dialog.psc is not None and dialog.tabs is not None
        panel = dialog.psc
        assert dialog.tabs.currentWidget() is panel
        assert not dialog.tabs.isTabVisible(1)  # an MRL must use PSC: no password tab
        assert panel.national_id.text() == MRL_ID and panel.national_id.isReadOnly()
        # The room allows the browser at login, not here: it would name no account.
        assert desk.client.welcome["psc"]["pkce"] and not panel.browser.isVisibleTo(dialog)
        assert (w.dossier_form.dossier or {}).get("id") == d["id"]  # still on screen
        await until(lambda: desk.client.state is LinkState.CONNECTED, "socket back")
        psc.people[MRL_ID].pending_polls = FOREVER
        asked = len(psc.ciba_requests)
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
        await until(lambda: panel.code.text(), panel.message.text)
        assert len(psc.ciba_requests) == asked + 1
        assert psc.ciba_requests[-1]["login_hint"] == MRL_ID
        assert panel.code.text().endswith(psc.ciba_requests[-1]["binding_message"])
        approve(psc, MRL_ID)
        await until(lambda: desk.relogin is None and not dialog.isVisible(), panel.message.text)
        await until(lambda: desk.client.state is LinkState.READY, "logged in again")
        assert desk.client.auth == "psc"
        assert (w.dossier_form.dossier or {}).get("id") == d["id"]
        got = await desk.client.request("dossier.get", dossier_id=d["id"])
        assert got["dossier"]["number"] == d["number"]
        assert "connecté par Pro Santé Connect" in w.account_label.text()
        await other.close()
        await n1.close()
        await desk.close()

    qloop.run_until_complete(scenario(psc_url))


def test_a_fallback_session_re_proves_with_psc_or_again_with_a_reason(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    """Came in by the fallback (PSC down): PSC is tried first at the re-proof; still down,
    the password tab comes back with the reason to type again."""

    async def scenario(url: str) -> None:
        psc.down = True
        client = HubClient(url, desk="poste-mrl", journal=tmp_path / "mrl.json")
        await client.connect()
        with pytest.raises(HubError) as refused:
            await client.psc_start(MRL_ID)
        assert refused.value.reply.get("fallback") == "password_with_reason"
        await client.login("mrl", PASSWORD, fallback_reason="PSC en panne")
        assert client.auth == "password_fallback"
        desk = Desk(client, None)
        w = desk.build()
        w.show()
        qtbot.addWidget(w)
        assert w.account_label.text().endswith("connecté par " + AUTH["password_fallback"])
        other = HubClient(url, reconnect=False)
        await other.connect()
        await other.request("resume", token=client._token)
        await other.request("logout")
        await until(lambda: desk.relogin is not None and desk.relogin.isVisible(), "dialog")
        dialog = desk.relogin
        assert dialog is not None and dialog.psc is not None and dialog.tabs is not None
        assert dialog.tabs.currentWidget() is dialog.psc
        assert not dialog.tabs.isTabVisible(1)
        await until(lambda: client.state is LinkState.CONNECTED, "socket back")
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
        await until(lambda: dialog.tabs is not None and dialog.tabs.currentIndex() == 1)
        assert dialog.form.isRowVisible(dialog.fallback_reason)
        assert "Pro Santé Connect ne répond pas" in dialog.message.text()
        qtbot.keyClicks(dialog.password, PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        await until(lambda: "Indiquez le motif" in dialog.message.text(), dialog.message.text)
        qtbot.keyClicks(dialog.fallback_reason, "toujours en panne")
        qtbot.keyClick(dialog.fallback_reason, Qt.Key.Key_Return)
        await until(lambda: desk.relogin is None, dialog.message.text)
        assert client.auth == "password_fallback"
        await other.close()
        await desk.close()

    qloop.run_until_complete(scenario(psc_url))


def test_the_supervisor_is_told_of_a_login_without_psc(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    async def scenario(url: str) -> None:
        sup = await open_desk(url, "sup", tmp_path)
        w = sup.window
        assert w is not None
        qtbot.addWidget(w)
        psc.down = True
        mrl = HubClient(url, desk="poste-12", reconnect=False)
        await mrl.connect()
        with pytest.raises(HubError):
            await mrl.psc_start(MRL_ID)  # the hub learns PSC is unreachable
        await mrl.login("mrl", PASSWORD, fallback_reason="lecteur CPS en panne")
        await until(lambda: "Connexion sans Pro Santé Connect" in w.message_label.text())
        said = w.message_label.text()
        assert "mrl" in said and "Médecin régulateur libéral" in said, said
        assert "poste-12" in said and "motif : lecteur CPS en panne" in said, said
        await mrl.close()
        await sup.close()

    qloop.run_until_complete(scenario(psc_url))
