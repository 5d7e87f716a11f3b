"""Start the real desk under Xvfb, drive it like a user and keep a screenshot to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is missing: run scripts/setup.sh (it installs xvfb)"
    for number in range(90, 140):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            break
    proc = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.05)
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


@pytest.mark.xvfb
def test_desk_window_under_xvfb(xvfb_display: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot, login = ARTIFACTS / "desk-n1.png", ARTIFACTS / "login.png"
    for f in (shot, login):
        f.unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "screenshot_desk.py"),
            "--out",
            str(shot),
            "--login-out",
            str(login),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1600, 1000)
    # A real window was drawn: many distinct colours, not a black screen.
    colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 23)}
    assert len(colours) > 8
    assert QImage(str(login)).width() == 1600


@pytest.mark.xvfb
def test_wizard_pages_under_xvfb(xvfb_display: str) -> None:
    """Each page of the first-run wizard grabbed from the X screen (artifacts/wizard-*.png)."""
    ARTIFACTS.mkdir(exist_ok=True)
    names = ["wizard-1-hub.png", "wizard-2-sip.png", "wizard-3-headset.png", "wizard-4-login.png"]
    for name in names:
        (ARTIFACTS / name).unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "screenshot_wizard.py"),
            "--out-dir",
            str(ARTIFACTS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for name in names:
        assert (ARTIFACTS / name).stat().st_size > 10_000, name
