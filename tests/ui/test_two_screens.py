"""The desk on a real two-screen X display: the supervisor detaches supervision, the
timeline and the slot search onto the second screen; the next start puts each one back
there, for that user only (another one gets them docked); with the second monitor
unplugged they come back docked in the window, as the one-screen layout has them, not
off-screen nor piled over the dossier; the window fills its screen each time.

Xvfb's own +xinerama puts every head at 0,0 (they overlap), so the two screens are two
RandR 1.5 monitors side by side on one Xvfb frame buffer (``xrandr --setmonitor``), which
Qt's xcb platform reads as two QScreens as it does on a room's desk. -noreset keeps the
monitors when xrandr, the only client yet, disconnects. Each screen is grabbed from the
X root window: artifacts/two-screens-<step>-<screen>.png."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from tests.xvfb import x_display

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
DOCKS = ("supervisionDock", "timelineDock", "searchDock")
#: The room's screens: the desk's 1366×768 on the left (primary), a 1920×1080 at its right.
FIRST, SECOND = [0, 0, 1366, 768], [1366, 0, 1920, 1080]
MONITORS = ("*first 1366/361x768/203+0+0 screen", "second 1920/508x1080/286+1366+0 none")


def desk(display: str, phase: str, user: str, settings: Path, step: str) -> dict[str, Any]:
    """Run tests/ui/two_screens_desk.py on the display; its report, screenshots kept."""
    for old in ARTIFACTS.glob(f"{step}-*.png"):
        old.unlink()
    report = settings.with_name(f"{step}.json")
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ui" / "two_screens_desk.py"), phase,
         "--user", user, "--settings", str(settings), "--shots", str(ARTIFACTS / step),
         "--report", str(report)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, f"{step}: {out.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return result


def inside(rect: list[int], area: list[int]) -> bool:
    x, y, w, h = rect
    ax, ay, aw, ah = area
    return ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah


def drawn(shot: Path, size: list[int]) -> int:
    """How many colours a grab of a screen holds (a black screen: 1)."""
    image = QImage(str(shot))
    assert [image.width(), image.height()] == size[2:], shot.name
    return len({image.pixel(x, y) for x in range(0, size[2], 31) for y in range(0, size[3], 17)})


@pytest.mark.xvfb
@pytest.mark.parametrize(("screen_size", "monitors"), [("3286x1080", MONITORS)], ids=["two"])
def test_panels_on_the_second_screen_come_back_there_then_onto_the_only_one_left(
    tmp_path: Path, xvfb_display: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settings = tmp_path / "view.ini"
    placed = desk(xvfb_display, "place", "sup", settings, "two-screens-1-placed")
    assert [(s["name"], s["geometry"]) for s in placed["screens"]] == [
        ("first", FIRST),
        ("second", SECOND),
    ], "Qt does not see the two screens"
    assert placed["primary"] == "first"
    window = placed["window"]
    assert window["screen"] == "first" and window["maximised"], window
    assert window["geometry"] == FIRST, window  # the whole first screen
    for name in DOCKS:
        dock = placed["docks"][name]
        assert dock["floating"] and dock["visible"] and dock["screen"] == "second", dock
        assert inside(dock["geometry"], SECOND), (name, dock)
    assert drawn(ARTIFACTS / "two-screens-1-placed-second.png", SECOND) > 8

    again = desk(xvfb_display, "open", "sup", settings, "two-screens-2-restored")
    assert again["window"]["screen"] == "first" and again["window"]["maximised"]
    assert again["window"]["geometry"] == FIRST, again["window"]
    for name in DOCKS:
        dock, before = again["docks"][name], placed["docks"][name]
        assert dock["floating"] and dock["visible"], (name, dock)
        assert dock["screen"] == "second", (name, dock)
        assert dock["geometry"] == before["geometry"], (name, dock, before)
    assert drawn(ARTIFACTS / "two-screens-2-restored-second.png", SECOND) > 8

    other = desk(xvfb_display, "open", "sup2", settings, "two-screens-3-other-user")
    assert other["window"]["screen"] == "first"
    for name in DOCKS:  # another supervisor: every panel docked in the window
        dock = other["docks"][name]
        assert not dock["floating"] and dock["screen"] == "first", (name, dock)
        assert dock["area"] != "NoDockWidgetArea", (name, dock)
        if dock["in_front"]:  # not behind another panel's tab: inside the window
            assert inside(dock["geometry"], [0, 0, *FIRST[2:]]), (name, dock)
    assert drawn(ARTIFACTS / "two-screens-3-other-user-second.png", SECOND) == 1  # empty

    with x_display("1366x768") as display:  # the second monitor unplugged
        alone = desk(display, "open", "sup", settings, "two-screens-4-one-screen")
        (screen,) = alone["screens"]
        assert screen["geometry"] == FIRST
        assert alone["window"]["geometry"] == FIRST, alone["window"]
        for name in DOCKS:  # back in the window, as the one-screen layout has them
            dock = alone["docks"][name]
            assert not dock["floating"] and dock["screen"] == screen["name"], (name, dock)
            assert dock["area"] == other["docks"][name]["area"], (name, dock)
            if dock["in_front"]:
                assert inside(dock["geometry"], [0, 0, *FIRST[2:]]), (name, dock)
        assert sum(d["in_front"] for d in alone["docks"].values()) >= 2, alone["docks"]
