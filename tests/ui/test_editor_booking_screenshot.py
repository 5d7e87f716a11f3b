"""The OSNP books an editor's slot on the real desk under Xvfb: the three moments
(before the click, pending, confirmed) are grabbed into artifacts/ to be looked at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "editor-booking"
SHOTS = ("1-before", "2-pending", "3-confirmed")


@pytest.mark.xvfb
def test_editor_booking_on_the_osnps_desk_under_xvfb(xvfb_env: dict[str, str]) -> None:
    for name in SHOTS:
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
    env = {**xvfb_env, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.ui.editor_booking_shot", "--out", str(ARTIFACTS)]
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "origin=sas" in out.stdout  # the page the browser was asked to open
    for name in SHOTS:
        image = QImage(str(ARTIFACTS / f"{name}.png"))
        assert (image.width(), image.height()) == (1600, 1000), name
        colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 23)}
        assert len(colours) > 8, name  # a real desk was drawn, not a black screen
