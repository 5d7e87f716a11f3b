"""Every role's desk at 1366×768 and 1920×1080 under Xvfb: the window within the screen,
every visible button of the window inside it (reachable, scrolled to if its dock
scrolls), no main list scrolling sideways. The screenshots stay in artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
ROLES = ("arm1", "mrl", "osnp", "superviseur", "cpts")
SIZES = ("1366x768", "1920x1080")
#: Not fitting yet (issue 12, left open): at 1366×768 the supervisor's call bar, dossier
#: form (priority row) and audit tab need 1646 px; the window fits the screen but its
#: content is cut sideways. Strict: once it fits, this list must shrink.
TOO_BIG = {("superviseur", "1366x768")}
CASES = [
    pytest.param(user, size, marks=[pytest.mark.xfail(strict=True, reason="too big")]
                 if (user, size) in TOO_BIG else [])
    for size in SIZES for user in ROLES
]  # fmt: skip


@pytest.fixture
def screen(size: str) -> Iterator[str]:
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is missing: run scripts/setup.sh (it installs xvfb)"
    for number in range(140, 190):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            break
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.05)
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


@pytest.mark.xvfb
@pytest.mark.parametrize(("user", "size"), CASES)
def test_the_desk_fits_the_screen(user: str, size: str, screen: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, "DISPLAY": screen, "QT_QPA_PLATFORM": "xcb"}
    shot, report = ARTIFACTS / f"fit-{user}-{size}.png", ARTIFACTS / f"fit-{user}-{size}.json"
    for f in (shot, report):
        f.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshot_desk.py"), "--user", user,
         "--out", str(shot), "--fit-json", str(report)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, f"{user}: {out.stderr[-3000:]}"
    fit = json.loads(report.read_text(encoding="utf-8"))
    w, h = (int(x) for x in size.split("x"))
    assert fit["screen"][2:] == [w, h]
    assert fit["window"][2] >= w * 0.9, f"{user} not maximised: {fit['window']}"
    assert not fit["problems"], "\n".join(fit["problems"])
