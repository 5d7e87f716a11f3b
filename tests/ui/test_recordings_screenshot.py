"""The recordings list of a dossier, on the supervisor's real desk under Xvfb, day and
night: ``scripts/screenshot_recordings.py`` grabs it into artifacts/ to be looked at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


@pytest.mark.xvfb
@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_recordings_list_under_xvfb(xvfb_env: dict[str, str], night: bool, demo_db: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"recordings-chooser{'-night' if night else ''}.png"
    shot.unlink(missing_ok=True)
    env = xvfb_env
    command = [sys.executable, str(ROOT / "scripts" / "screenshot_recordings.py")]
    command += ["--out", str(shot), "--db", str(demo_db)] + (["--night"] if night else [])
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1600, 1000)
    colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 23)}
    assert len(colours) > 8  # a real desk was drawn, not a black screen
