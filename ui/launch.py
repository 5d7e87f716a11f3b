"""Start the desk: Qt application on a qasync loop, login, window."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path
from typing import TypeVar

import qasync
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.client.hub_client import HubError
from app.client.trust import HubTrust
from telephony.line import PhoneLine
from ui.desk import Desk
from ui.login import LoginDialog
from ui.trust_dialog import confirm_fingerprint

log = logging.getLogger(__name__)
T = TypeVar("T")
STYLE = Path(__file__).resolve().parents[1] / "resources" / "style" / "desk.qss"


def settle(future: asyncio.Future[T], value: T) -> None:
    if not future.done():
        future.set_result(value)


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("sasdesk")
    app.setApplicationDisplayName("sasdesk")
    # The login dialog closes before the desk window opens: we decide when to quit.
    app.setQuitOnLastWindowClosed(False)
    if STYLE.exists():
        app.setStyleSheet(STYLE.read_text(encoding="utf-8"))
    return app


async def run_session(
    url: str, line: PhoneLine | None, journal: Path | None, trust: HubTrust | None = None
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
    window = desk.build()
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    window.closing.connect(lambda: settle(closed, None))
    window.show()
    await closed
    await desk.close()
    return 0


def run(
    url: str, line: PhoneLine | None, journal: Path | None, trust: HubTrust | None = None
) -> int:
    app = make_app()
    # Python 3.11: asyncio.run() has no loop_factory yet; Runner does.
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(run_session(url, line, journal, trust))
