"""The OSNP books an editor's slot on the real desk under Xvfb: the three moments
(before the click, pending, confirmed) and the MRL's timeline are grabbed into
artifacts/ to be looked at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "editor-booking"
SHOTS = ("1-before", "2-pending", "3-confirmed", "4-mrl-timeline")


@pytest.mark.xvfb
def test_editor_booking_on_the_osnps_desk_under_xvfb(xvfb_env: dict[str, str]) -> None:
    for name in SHOTS:
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
    env = {**xvfb_env, "PYTHONPATH": str(ROOT)}
    env["TZ"] = "Europe/Paris"  # a room's desk: its clock and the hub's messages agree
    command = [sys.executable, "-m", "tests.ui.editor_booking_shot", "--out", str(ARTIFACTS)]
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "origin=sas" in out.stdout  # the page the browser was asked to open
    # the MRL's timeline: the booking pending at the editor, then confirmed by its agenda
    mrl = out.stdout.split("mrl timeline:", 1)[1].split("opened:", 1)[0]
    assert "en attente de l'agenda" in mrl and "confirmé par l'agenda" in mrl, mrl
    for name in SHOTS:
        image = QImage(str(ARTIFACTS / f"{name}.png"))
        assert (image.width(), image.height()) == (1600, 1000), name
        colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 23)}
        assert len(colours) > 8, name  # a real desk was drawn, not a black screen
