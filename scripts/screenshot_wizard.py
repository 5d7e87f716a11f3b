"""Walk the desk's first-run wizard on the current X display and grab each page.

    DISPLAY=:99 python scripts/screenshot_wizard.py --out-dir shots/ [--night]

An embedded hub with the demo territory answers the hub step; the SIP step tests a port
where no SIP server answers (its failure is what is shown); the headset step listens to
a synthetic microphone (a tone) so that its meters move; the login step is filled with a
demo account. With --night the pages are shown in the night theme (files
night-wizard-*.png). The screenshots are grabs of the X root window, not widget renderings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.client.trust import PinStore  # noqa: E402
from app.config.desk import DeskSettings  # noqa: E402
from app.demo.seed import Demo  # noqa: E402
from app.room.embedded import EmbeddedHub  # noqa: E402
from telephony.audio.device import SignalSource  # noqa: E402
from ui.launch import make_app  # noqa: E402
from ui.room_view import apply_theme  # noqa: E402
from ui.wizard import SetupWizard  # noqa: E402
from ui.wizard_pages import tone  # noqa: E402


async def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(str(condition))
        await asyncio.sleep(0.05)


def grab(out: Path, frame: QRect | None = None) -> None:
    """The X root window, or only the part under ``frame`` (the wizard's, at night)."""
    screen = QGuiApplication.primaryScreen()
    if frame is None:
        screen.grabWindow(0).save(str(out))
    else:
        screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(str(out))
    print(out)


async def drive(url: str, out: Path, prefix: str = "") -> None:
    tmp = Path(tempfile.mkdtemp())
    wizard = SetupWizard(
        DeskSettings(),
        journal=tmp / "outbox.json",
        save_to=tmp / "desk.json",
        pins=PinStore(tmp / "pins.json"),
        audio_factory=lambda: SignalSource(tone(dbfs=-18.0), loop=True),
    )
    wizard.move(40, 40)
    wizard.show()

    def frame() -> QRect | None:  # the night shots are measured: the wizard only
        return wizard.frameGeometry() if prefix else None

    hub = wizard.hub_page
    hub.url.setText(url)
    hub.run_test()
    await until(hub.isComplete)
    await asyncio.sleep(0.3)
    grab(out / f"{prefix}wizard-1-hub.png", frame())
    wizard.next()
    sip = wizard.sip_page
    sip.server.setText("127.0.0.1")
    sip.port.setValue(9)  # nothing answers there: the page says so
    sip.user.setText("poste-arm-03")
    sip.password.setText("mot-de-passe")
    sip.run_test()
    await until(lambda: "Échec" in sip.result.text())
    await asyncio.sleep(0.3)
    grab(out / f"{prefix}wizard-2-sip.png", frame())
    sip.none.setChecked(True)
    wizard.next()
    headset = wizard.headset_page
    headset.begin()
    headset.echo.setChecked(True)
    await until(headset.isComplete)
    await asyncio.sleep(0.5)
    grab(out / f"{prefix}wizard-3-headset.png", frame())
    wizard.next()
    login = wizard.login_page
    assert login is not None
    login.username.setText("arm1")
    login.password.setText("demo")
    await asyncio.sleep(0.3)
    grab(out / f"{prefix}wizard-4-login.png", frame())
    login.login()
    await until(lambda: not wizard.isVisible())
    if wizard.client is not None:
        await wizard.client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--night", action="store_true", help="en thème de nuit")
    parser.add_argument(
        "--db",
        type=Path,
        help="base SQLite du hub (défaut : une neuve, remplie de la démo) ; les tests passent "
        "la copie d'une base de démo remplie une fois par session",
    )
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    db = args.db or Path(tempfile.mkdtemp()) / "demo.sqlite3"
    hub = EmbeddedHub(f"sqlite:///{db}", demo=Demo())
    url = hub.start()
    app: QApplication = make_app()
    if args.night:
        apply_theme(app, True)
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(drive(url, args.out_dir, "night-" if args.night else ""))
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
