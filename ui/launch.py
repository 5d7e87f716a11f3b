"""Start the desk: Qt application on a qasync loop, login, window."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app.client.hub_client import HubError
from app.client.trust import HubTrust
from app.config.desk import DeskSettings, load_desk_settings
from app.resources import resource
from telephony.line import PhoneLine
from ui.desk import Desk
from ui.login import LoginDialog
from ui.main_thread_gc import MainThreadCollector, install
from ui.room_view import apply_last_theme
from ui.trust_dialog import confirm_fingerprint
from ui.wizard import SetupWizard

log = logging.getLogger(__name__)
#: Logged once the first-run wizard is on screen, waiting for its user (nothing connects
#: before the user gives a hub address): support reads it, and tests wait for it.
WIZARD_SHOWN = "first-run wizard shown: waiting for the user"
T = TypeVar("T")
STYLE = resource("style", "desk.qss")
ICON = resource("icons", "sasdesk.png")


def settle(future: asyncio.Future[T], value: T) -> None:
    if not future.done():
        future.set_result(value)


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("sasdesk")
    app.setApplicationDisplayName("sasdesk")
    app.setDesktopFileName("sasdesk")  # matches the installed sasdesk.desktop
    if ICON.exists():
        app.setWindowIcon(QIcon(str(ICON)))
    # The login dialog closes before the desk window opens: we decide when to quit.
    app.setQuitOnLastWindowClosed(False)
    if STYLE.exists():
        app.setStyleSheet(STYLE.read_text(encoding="utf-8"))
    if not any(isinstance(c, MainThreadCollector) for c in app.children()):
        install(app)  # garbage with Qt objects in it is freed in this thread only
    return app


async def run_session(
    url: str | Sequence[str],
    line: PhoneLine | None,
    journal: Path | None,
    trust: HubTrust | None = None,
) -> int:
    trust = trust or HubTrust()
    if trust.confirm is None:
        trust.confirm = confirm_fingerprint
    try:
        desk = await Desk.connect(
            url, line=line, journal=journal, desk_name=socket.gethostname(), trust=trust
        )
    except HubError as exc:
        QMessageBox.critical(None, "sasdesk", f"Impossible de joindre le hub.\n\n{exc.message}")
        return 1
    dialog = LoginDialog(desk.client)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda code: settle(done, code))
    dialog.open()
    if await done != QDialog.DialogCode.Accepted:
        await desk.client.close()
        return 0
    return await run_window(desk)


async def run_window(desk: Desk) -> int:
    """The logged-in desk's window until it is closed; its menu reopens the wizard."""
    window = desk.build()
    window.wizard_requested.connect(lambda: reopen_wizard(window))
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    window.closing.connect(lambda: settle(closed, None))
    window.show()
    await closed
    await desk.close()
    return 0


def reopen_wizard(parent: QWidget) -> None:
    """From the desk's menu: hub, SIP and headset again; saved for the next start (the
    wizard is a child of the window: Qt keeps it alive)."""
    wizard = SetupWizard(load_desk_settings(), with_login=False, parent=parent)

    def finished(code: int) -> None:
        client = wizard.client
        if client is not None:
            asyncio.ensure_future(client.close())
        if code == QDialog.DialogCode.Accepted:
            QMessageBox.information(
                parent,
                "sasdesk",
                "Réglages du poste enregistrés : ils "
                "s'appliqueront au prochain démarrage du poste.",
            )

    wizard.finished.connect(finished)
    wizard.open()


async def run_setup(
    settings: DeskSettings,
    journal: Path | None,
    make_line: Callable[[DeskSettings], PhoneLine | None],
) -> int:
    """First run (or ``sasdesk desk --wizard``): the wizard ends logged in, then the desk."""
    wizard = SetupWizard(settings, journal=journal)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    wizard.finished.connect(lambda code: settle(done, code))
    wizard.open()
    log.info(WIZARD_SHOWN)
    accepted = await done == QDialog.DialogCode.Accepted
    client = wizard.client
    if not accepted or client is None or client.user is None:
        if client is not None:
            await client.close()
        return 0
    return await run_window(Desk(client, make_line(wizard.settings)))


def run_wizard(
    settings: DeskSettings,
    journal: Path | None,
    make_line: Callable[[DeskSettings], PhoneLine | None],
) -> int:
    app = make_app()
    apply_last_theme(app)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(run_setup(settings, journal, make_line))


def run(
    url: str | Sequence[str],
    line: PhoneLine | None,
    journal: Path | None,
    trust: HubTrust | None = None,
) -> int:
    app = make_app()
    apply_last_theme(app)  # the login dialog in the theme the desk was left in
    # Python 3.11: asyncio.run() has no loop_factory yet; Runner does.
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(run_session(url, line, journal, trust))
