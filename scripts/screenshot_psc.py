"""The médecin régulateur logs in with Pro Santé Connect and decides, on the current X display.

    DISPLAY=:99 python scripts/screenshot_psc.py --out-dir shots/ --db /tmp/room.sqlite3 \
        --report report.json [--night]

An embedded hub with the demo territory, its room set to require PSC of its MRLs, talks
to the PSC double on loopback (app.bench.psc_double). The desk's login dialog is driven
from the keyboard: Alt+S (the « Pro Santé Connect » tab), the national identifier, Enter;
the dialog shows the two-digit code and the time left and is grabbed over its frame
(psc-login-code.png); the professional validates on their phone (the double answers the
next poll); the desk opens, F5 takes the waiting dossier, the decision is recorded with
Ctrl+Entrée, and the desk with its timeline is grabbed (psc-desk-decided.png); the session
ends and the MRL proves who they are again with PSC (psc-relogin-code.png). Then, PSC
down, the dialog's password fallback (psc-login-fallback.png). The report (JSON) gives
what was shown, for tests/ui/test_psc_xvfb.py to check; the database stays for
``sasdesk audit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from screenshot_desk import prepare  # noqa: E402
from screenshot_night import grab_frame, until  # noqa: E402

from app.bench.psc_double import Person, PscDouble  # noqa: E402
from app.client.hub_client import HubClient  # noqa: E402
from app.config.settings import HubSettings  # noqa: E402
from app.db.engine import make_engine  # noqa: E402
from app.db.models import User  # noqa: E402
from app.demo.seed import Demo  # noqa: E402
from app.psc.settings import Policy, PscSettings  # noqa: E402
from app.room.embedded import EmbeddedHub  # noqa: E402
from ui.desk import Desk  # noqa: E402
from ui.launch import make_app  # noqa: E402
from ui.login import LoginDialog  # noqa: E402
from ui.room_view import apply_theme  # noqa: E402

MRL_ID = "810001234567"
#: PSC answers "pending" until the script says the professional validated the code.
FOREVER = 10**9


async def activate(widget: Any) -> None:
    widget.windowHandle().requestActivate()
    await until(widget.isActiveWindow)


async def login_dialog(url: str, settings: Path) -> tuple[Desk, LoginDialog]:
    desk = await Desk.connect(url, journal=Path(tempfile.mkdtemp()) / "o.json", desk_name="p7")
    dialog = LoginDialog(desk.client, settings_file=settings)
    dialog.show()
    await activate(dialog)
    QTest.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    panel = dialog.psc
    assert panel is not None, "the room's PSC is not offered"
    await until(panel.national_id.hasFocus)
    QTest.keyClicks(panel.national_id, MRL_ID)
    QTest.keyClick(panel.national_id, Qt.Key.Key_Return)
    return desk, dialog


async def drive(url: str, psc: PscDouble, out: Path, report: dict[str, Any]) -> None:
    await prepare(url, "mrl")  # a P2 dossier waits for the liberal regulation
    settings = Path(tempfile.mkdtemp()) / "desk.json"
    desk, dialog = await login_dialog(url, settings)
    panel = dialog.psc
    assert panel is not None
    await until(panel.code.text)
    await asyncio.sleep(0.6)  # the countdown's first second and the repaint
    grab_frame(dialog, out / "psc-login-code.png")
    report["code_text"] = panel.code.text()
    report["time_left"] = panel.left.text()
    report["binding_message"] = psc.ciba_requests[-1]["binding_message"]
    psc.people[MRL_ID].pending_polls = 0  # validated on the phone
    await until(lambda: desk.client.user is not None)
    dialog.close()
    window = desk.build()
    window.show()
    await activate(window)
    QTest.keyClick(window, Qt.Key.Key_F5)  # the next dossier of the MRL's queue
    await until(window.decision_form.isEnabled)
    form = window.decision_form
    form.decision.setCurrentIndex(form.decision.findData("ORIENT"))
    form.care_level.setCurrentIndex(form.care_level.findData("R3"))
    # Oriented to the doctor on duty (PDSA): the dossier stays on screen until closed.
    form.orientation.setCurrentIndex(form.orientation.findData("PDSA"))
    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    timeline = window.timeline
    await until(lambda: any("Décision médicale" in timeline.item(i).text()
                            for i in range(timeline.count())))  # fmt: skip
    await asyncio.sleep(0.8)
    QGuiApplication.primaryScreen().grabWindow(0).save(str(out / "psc-desk-decided.png"))
    report["timeline"] = [timeline.item(i).text() for i in range(timeline.count())]
    report["account"] = window.account_label.text()
    report["dossier"] = (window.dossier_form.dossier or {}).get("number")
    await reprove(url, desk, psc, out, report)
    await desk.close()
    # PSC unreachable: the room's fallback, a password with a reason.
    psc.down = True
    desk, dialog = await login_dialog(url, settings)
    await until(lambda: dialog.form.isRowVisible(dialog.reason))
    QTest.keyClicks(dialog.username, "mrl")
    QTest.keyClicks(dialog.password, "demo")
    await asyncio.sleep(0.5)
    grab_frame(dialog, out / "psc-login-fallback.png")
    report["fallback_message"] = dialog.message.text()
    dialog.close()
    await desk.client.close()


async def reprove(url: str, desk: Desk, psc: PscDouble, out: Path, report: dict[str, Any]) -> None:
    """The session ends (its token logged out elsewhere, as idle expiry does): the MRL
    proves who they are again with PSC, the dossier still on screen."""
    psc.people[MRL_ID].pending_polls = FOREVER
    other = HubClient(url, reconnect=False)
    await other.connect()
    await other.request("resume", token=desk.client._token)  # noqa: SLF001
    await other.request("logout")
    await other.close()
    await until(lambda: desk.relogin is not None and desk.relogin.isVisible())
    dialog = desk.relogin
    assert dialog is not None and dialog.psc is not None
    await until(lambda: str(desk.client.state) == "connected")
    await activate(dialog)
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    await until(dialog.psc.code.text)
    await asyncio.sleep(0.6)
    grab_frame(dialog, out / "psc-relogin-code.png")
    report["relogin_code_text"] = dialog.psc.code.text()
    psc.people[MRL_ID].pending_polls = 0
    await until(lambda: desk.relogin is None)
    report["relogin_auth"] = desk.client.auth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True, help="base SQLite (gardée)")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--night", action="store_true", help="thème de nuit")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # the defaults, not a person's
    psc = PscDouble(interval=0).start()
    psc.add(Person(MRL_ID, pending_polls=FOREVER))
    db_url = f"sqlite:///{args.db}"
    room = PscSettings(
        discovery_url=psc.discovery_url,
        client_id=psc.client_id,
        client_secret=psc.client_secret,
        poll_floor_s=0.05,
        timeout_s=2.0,
        roles={"MRL": Policy.MUST, "MEDECIN_AMU": Policy.MAY},
    )
    hub = EmbeddedHub(db_url, demo=Demo(), settings=HubSettings(psc=room))
    url = hub.start()
    engine = make_engine(db_url)
    with engine.begin() as db:  # as `sasdesk users set-national-id mrl …` does
        db.execute(update(User).where(User.username == "mrl").values(national_id=MRL_ID))
    engine.dispose()
    app: QApplication = make_app()
    apply_theme(app, args.night)
    report: dict[str, Any] = {"national_id": MRL_ID}
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(drive(url, psc, args.out_dir, report))
    finally:
        hub.stop()
        psc.stop()
    args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
