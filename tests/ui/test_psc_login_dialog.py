"""The login dialog's « Pro Santé Connect » way in, against a real hub and the PSC double
on loopback: the code PSC also shows is displayed with the time left, the desk opens once
the professional validated it, the identifier is remembered on this PC; each refusal is
said in French; Esc cancels a wait and a late answer cannot log the desk in; the room's
password fallback with a reason while PSC is unreachable; the browser flow (PKCE)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.bench.psc_double import PscDouble
from app.client.hub_client import HubClient, HubError
from app.psc.settings import Fallback
from tests.conftest import PASSWORD
from tests.ui.conftest import type_text, until
from tests.ui.psc_room import FOREVER, MRL_ID, NURSE_ID, STRANGER_ID, approve
from ui.login import LoginDialog
from ui.psc_login import PscPanel

ACCEPTED = LoginDialog.DialogCode.Accepted


async def active(dialog: LoginDialog) -> None:
    handle = dialog.windowHandle()
    assert handle is not None
    handle.requestActivate()
    await until(dialog.isActiveWindow, "dialog active")


async def connected(url: str) -> HubClient:
    client = HubClient(url, desk="poste-psc")
    await client.connect()
    return client


async def login_dialog(
    qtbot: QtBot, url: str, settings: Path, **options: Any
) -> tuple[HubClient, LoginDialog, PscPanel]:
    """A desk's client connected to the room, and its login dialog on screen."""
    client = await connected(url)
    dialog = LoginDialog(client, settings_file=settings, **options)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.psc is not None, "the room's PSC is not offered"
    return client, dialog, dialog.psc


def enter_id(qtbot: QtBot, dialog: LoginDialog, national_id: str) -> None:
    assert dialog.psc is not None
    field = dialog.psc.national_id
    field.clear()
    qtbot.keyClicks(field, national_id)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_the_code_is_shown_then_the_desk_opens_and_the_identifier_is_remembered(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    settings = tmp_path / "desk.json"
    settings.write_text(json.dumps({"hub_url": "ws://127.0.0.1:1"}), encoding="utf-8")

    async def scenario(url: str) -> None:
        client, dialog, panel = await login_dialog(qtbot, url, settings)
        assert dialog.tabs.currentIndex() == 0  # nobody came in with PSC on this PC yet
        assert "Pro Santé Connect obligatoire pour : Médecin régulateur libéral" in (
            panel.policy.text()
        )
        await active(dialog)
        qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # « Pro &Santé »
        await until(lambda: dialog.tabs.currentWidget() is panel, "PSC tab by Alt+S")
        await until(panel.national_id.hasFocus, "identifier field focused")
        enter_id(qtbot, dialog, MRL_ID)
        await until(lambda: panel.code.text(), "code shown")
        binding = psc.ciba_requests[-1]["binding_message"]
        assert psc.ciba_requests[-1]["login_hint"] == MRL_ID
        wanted = f"Code à vérifier sur votre téléphone ou lecteur CPS : {binding}"
        assert panel.code.text() == wanted
        assert panel.left.text().startswith("Temps restant : ")
        assert panel.left.text().endswith("Échap pour annuler")
        assert panel.cancel_button.isVisible() and panel.progress.isVisible()
        assert not dialog.tabs.tabBar().isEnabled()  # one way in at a time
        assert dialog.isVisible() and client.user is None
        approve(psc, MRL_ID)
        await until(lambda: dialog.result() == ACCEPTED, "dialog accepted")
        assert client.user is not None and client.user["national_id"] == MRL_ID
        assert client.user["username"] == "mrl" and client.auth == "psc"
        saved = json.loads(settings.read_text(encoding="utf-8"))
        assert saved == {"hub_url": "ws://127.0.0.1:1", "last_national_id": MRL_ID}
        # The next login on this PC: PSC in front, the identifier typed, the cursor on it.
        other = await connected(url)
        again = LoginDialog(other, settings_file=settings)
        qtbot.addWidget(again)
        assert again.psc is not None
        assert again.tabs.currentWidget() is again.psc
        assert again.psc.national_id.text() == MRL_ID
        await other.close()
        await client.close()

    qloop.run_until_complete(scenario(psc_url))


def test_each_refusal_is_said_and_a_cancelled_wait_cannot_log_in_later(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    async def attempt(dialog: LoginDialog, national_id: str, wanted: str) -> str:
        panel = dialog.psc
        assert panel is not None
        panel.message.clear()
        enter_id(qtbot, dialog, national_id)
        sent = "Demande envoyée à Pro Santé Connect…"
        await until(lambda: not panel.busy and panel.message.text() not in ("", sent))
        assert wanted in panel.message.text()
        assert not panel.code.isVisible() and dialog.isVisible()
        assert panel.national_id.isEnabled() and dialog.tabs.tabBar().isEnabled()
        return panel.message.text()

    async def scenario(url: str) -> None:
        client, dialog, panel = await login_dialog(qtbot, url, tmp_path / "desk.json")
        dialog.tabs.setCurrentWidget(panel)
        qtbot.keyClick(panel.national_id, Qt.Key.Key_Return)
        await until(lambda: "Saisissez votre identifiant national" in panel.message.text())
        said = await attempt(dialog, "1234", "")  # the hub says why, in French
        assert "identifiant" in said.lower(), said
        assert not psc.ciba_requests  # never sent to PSC
        await attempt(dialog, STRANGER_ID, "Aucun compte sasdesk actif ne porte cet identifiant")
        said = await attempt(dialog, NURSE_ID, "Connexion refusée : ")
        assert len(said) > len("Connexion refusée : ") + 10  # why, in the hub's words
        person = psc.people[MRL_ID]
        person.behaviour, person.pending_polls = "deny", 0
        await attempt(dialog, MRL_ID, "Connexion refusée sur votre téléphone ou votre lecteur CPS")
        person.behaviour = "expire"
        await attempt(dialog, MRL_ID, "Le code n'a pas été validé à temps")
        person.behaviour, person.pending_polls = "approve", FOREVER
        enter_id(qtbot, dialog, MRL_ID)
        await until(lambda: panel.code.text(), "code shown")
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc: stop waiting, not quit
        await until(lambda: "Attente annulée" in panel.message.text(), panel.message.text)
        assert dialog.isVisible() and dialog.result() != ACCEPTED
        assert panel.national_id.text() == MRL_ID  # kept for another try
        approve(psc, MRL_ID)  # PSC's late "yes" to the abandoned attempt
        await until(lambda: client.state == "connected", "a new connection")
        with pytest.raises(HubError) as refused:
            await client.request("dossier.get", dossier_id=1)
        assert refused.value.code == "unauthenticated"
        assert client.user is None
        # Another try on the new connection goes through.
        enter_id(qtbot, dialog, MRL_ID)
        await until(lambda: dialog.result() == ACCEPTED, panel.message.text)
        assert client.auth == "psc"
        await client.close()

    qloop.run_until_complete(scenario(psc_url))


def test_password_fallback_with_a_reason_while_psc_is_unreachable(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    async def scenario(url: str) -> None:
        client, dialog, panel = await login_dialog(qtbot, url, tmp_path / "desk.json")
        assert not dialog.form.isRowVisible(dialog.reason)
        await active(dialog)
        # A password for a role that must use PSC, PSC answering: off to the PSC tab.
        qtbot.keyClicks(dialog.username, "mrl")
        qtbot.keyClicks(dialog.password, PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        await until(lambda: dialog.tabs.currentWidget() is panel, dialog.message.text)
        assert "saisissez votre identifiant national" in panel.message.text()
        psc.down = True
        enter_id(qtbot, dialog, MRL_ID)
        await until(lambda: dialog.form.isRowVisible(dialog.reason), panel.message.text)
        assert dialog.tabs.currentIndex() == 0
        assert "Pro Santé Connect ne répond pas" in dialog.message.text()
        assert "motif" in dialog.message.text() and "superviseur" in dialog.message.text()
        assert dialog.reason.hasFocus()  # identifier and password still typed
        assert dialog.username.text() == "mrl" and dialog.password.text() == PASSWORD
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
        await until(lambda: "Indiquez le motif" in dialog.message.text(), dialog.message.text)
        assert dialog.isVisible()
        type_text(dialog.reason, "Pro Santé Connect ne répond pas depuis 9 h 40")
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
        await until(lambda: dialog.result() == ACCEPTED, dialog.message.text)
        assert client.auth == "password_fallback"
        assert client.user is not None and client.user["username"] == "mrl"
        await client.close()

    qloop.run_until_complete(scenario(psc_url))


@pytest.mark.psc_room(fallback=Fallback.NONE)
def test_no_fallback_is_offered_when_the_room_allows_none(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    async def scenario(url: str) -> None:
        client, dialog, panel = await login_dialog(qtbot, url, tmp_path / "desk.json")
        dialog.tabs.setCurrentWidget(panel)
        psc.down = True
        enter_id(qtbot, dialog, MRL_ID)
        await until(lambda: "prévenez le superviseur" in panel.message.text(), panel.message.text)
        assert "Pro Santé Connect ne répond pas" in panel.message.text()
        assert not dialog.form.isRowVisible(dialog.reason)
        assert dialog.tabs.currentWidget() is panel
        await client.close()

    qloop.run_until_complete(scenario(psc_url))


@pytest.mark.psc_room(pkce=True)
def test_the_browser_flow_with_pkce_through_the_loopback_redirect(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    psc: PscDouble,
    psc_url: str,
    tmp_path: Path,
) -> None:
    """The system browser stands for itself: an HTTP client that follows PSC's redirect
    to the desk's loopback address, as a browser does, and reads the page it gets."""
    pages: list[httpx.Response] = []
    tasks: list[asyncio.Task[None]] = []

    async def browse(url: str) -> None:
        async with httpx.AsyncClient(follow_redirects=True) as browser:
            pages.append(await browser.get(url))

    def open_url(url: str) -> bool:
        tasks.append(asyncio.get_running_loop().create_task(browse(url)))
        return True

    async def scenario(url: str) -> None:
        client, dialog, panel = await login_dialog(
            qtbot, url, tmp_path / "desk.json", open_url=open_url
        )
        dialog.tabs.setCurrentWidget(panel)
        assert panel.browser.isVisibleTo(dialog)
        psc.browser_user = MRL_ID
        qtbot.mouseClick(panel.browser, Qt.MouseButton.LeftButton)
        await until(lambda: dialog.result() == ACCEPTED, panel.message.text)
        await asyncio.gather(*tasks)
        assert pages[-1].status_code == 200
        assert "Vous pouvez revenir à sasdesk" in pages[-1].text
        assert pages[-1].url.host == "127.0.0.1"
        assert client.user is not None and client.user["national_id"] == MRL_ID
        assert client.auth == "psc"
        assert "authorization_code" in psc.token_requests
        await client.close()

    qloop.run_until_complete(scenario(psc_url))
