"""The supervisor's desk choosing which of a dossier's recordings to hear, grabbed from
the current X display.

    DISPLAY=:99 python scripts/screenshot_recordings.py --out recordings.png [--night]

An embedded hub with the demo territory; through the protocol, an ARM answers a call on
116 117 and uploads its recording, the liberal regulating doctor takes the dossier and
phones two doctors from the slot search (both calls recorded and uploaded as a desk
does it). The supervisor opens the dossier and presses F12: the list of its recordings
(when, line or direction, who, how long) is what the screenshot shows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.client.hub_client import HubClient  # noqa: E402
from app.client.recordings import RecordingUploader  # noqa: E402
from app.demo.seed import Demo  # noqa: E402
from app.room.embedded import EmbeddedHub  # noqa: E402
from ui.desk import Desk  # noqa: E402
from ui.launch import make_app  # noqa: E402

#: The calls placed from the search: (call ref, number, doctor, seconds).
PLACED = (
    ("f7-aubert@poste-mrl", "0546410203", "Dr Aubert (médecin traitant)", 48.0),
    ("f7-roux@poste-mrl", "0546279911", "Dr Sophie Roux", 95.0),
)


def tone_wav(path: Path, seconds: float, hz: float) -> Path:
    """A stereo 8 kHz WAV like the recorder's (a tone each side)."""
    t = np.arange(int(8000 * seconds)) / 8000
    side = (np.sin(2 * np.pi * hz * t) * 6000).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.column_stack([side, side // 2]).tobytes())
    return path


async def logged(url: str, username: str) -> HubClient:
    client = HubClient(url, desk=f"poste-{username}", reconnect=False)
    await client.connect()
    await client.login(username, "demo")
    return client


async def prepare(url: str, folder: Path) -> int:
    """A dossier with three recordings, uploaded as desks upload them."""
    arm = await logged(url, "arm1")
    await arm.request("call.offered", call_ref="rec-in@room", line="116117", caller="0639980177")
    d = (await arm.request("call.answered", call_ref="rec-in@room"))["dossier"]
    await arm.request(
        "dossier.update",
        dossier_id=d["id"],
        fields={"patient_last_name": "Girard", "patient_first_name": "Lucas", "motif": "Otalgie"},
    )
    uploader = RecordingUploader(arm, folder / "arm.json", None)
    await uploader.upload("rec-in@room", tone_wav(folder / "in.wav", 127.0, 440))
    await arm.request("dossier.qualify", dossier_id=d["id"], priority="P2")
    mrl = await logged(url, "mrl")
    await mrl.request("dossier.take", dossier_id=d["id"])
    uploader = RecordingUploader(mrl, folder / "mrl.json", None)
    for n, (ref, number, callee, seconds) in enumerate(PLACED):
        placed = {"dossier_id": d["id"], "number": number, "callee": callee}
        wav = tone_wav(folder / f"f7-{n}.wav", seconds, 300 + 100 * n)
        await uploader.upload(ref, wav, outgoing=True, placed=placed)
    for client in (arm, mrl):
        await client.close()
    return int(d["id"])


async def drive(url: str, out: Path, night: bool) -> None:
    folder = Path(tempfile.mkdtemp())
    dossier_id = await prepare(url, folder)
    desk = await Desk.connect(url, journal=folder / "sup.json", desk_name="poste-superviseur")
    await desk.client.login("superviseur", "demo")
    window = desk.build()
    window.show()
    window.windowHandle().requestActivate()
    if night:
        action = window.findChild(QAction, "action_night")
        assert action is not None, "no night theme in the menu"
        action.trigger()
    controller = desk.controller
    assert controller is not None
    controller.dossier.open(dossier_id, fetch=True)
    while window.dossier_form.dossier is None:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    QTest.keyClick(window, Qt.Key.Key_F12)
    chooser = None
    for _ in range(200):
        chooser = controller.playback.chooser
        if chooser is not None and chooser.isVisible():
            break
        await asyncio.sleep(0.05)
    assert chooser is not None and chooser.isVisible(), window.message_label.text()
    QTest.keyClick(chooser.table, Qt.Key.Key_Down)  # the doctor's first call, selected
    await asyncio.sleep(1.0)
    QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
    chooser.close()
    await desk.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--night", action="store_true", help="en thème de nuit")
    parser.add_argument(
        "--db",
        type=Path,
        help="base SQLite du hub (défaut : une neuve, remplie de la démo) ; les tests passent "
        "la copie d'une base de démo remplie une fois par session",
    )
    args = parser.parse_args()
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # the defaults, not a saved layout
    db = args.db or Path(tempfile.mkdtemp()) / "demo.sqlite3"
    hub = EmbeddedHub(f"sqlite:///{db}", demo=Demo())
    url = hub.start()
    app: QApplication = make_app()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(drive(url, args.out, args.night))
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
