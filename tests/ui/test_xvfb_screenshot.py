"""Start the real desk under Xvfb, drive it like a user and keep a screenshot to look at."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


@pytest.mark.xvfb
def test_desk_window_under_xvfb(xvfb_env: dict[str, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot, login = ARTIFACTS / "desk-n1.png", ARTIFACTS / "login.png"
    for f in (shot, login):
        f.unlink(missing_ok=True)
    env = xvfb_env
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
def test_wizard_pages_under_xvfb(xvfb_env: dict[str, str], demo_db: Path) -> None:
    """Each page of the first-run wizard grabbed from the X screen (artifacts/wizard-*.png)."""
    ARTIFACTS.mkdir(exist_ok=True)
    names = ["wizard-1-hub.png", "wizard-2-sip.png", "wizard-3-headset.png", "wizard-4-login.png"]
    for name in names:
        (ARTIFACTS / name).unlink(missing_ok=True)
    env = xvfb_env
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "screenshot_wizard.py"),
            "--out-dir",
            str(ARTIFACTS),
            "--db",
            str(demo_db),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for name in names:
        assert (ARTIFACTS / name).stat().st_size > 10_000, name


NIGHT_SHOTS = [f"night-{n}.png" for n in ("login", "password", "history", "search",
               "statistics", "audit", "import")] + [
    f"night-wizard-{n}.png" for n in ("1-hub", "2-sip", "3-headset", "4-login")
]  # fmt: skip


def luminance(path: Path) -> np.ndarray:
    """Relative luminance (0-255, Rec. 709 weights) of every pixel of a PNG."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8)[: height * image.bytesPerLine()]
    bgra = raw.reshape(height, image.bytesPerLine() // 4, 4)[:, :width].astype(float)
    return 0.0722 * bgra[..., 0] + 0.7152 * bgra[..., 1] + 0.2126 * bgra[..., 2]


@pytest.mark.xvfb
def test_night_theme_windows_under_xvfb(
    xvfb_env: dict[str, str], demo_template: Path, tmp_path: Path
) -> None:
    """The windows besides the desk, in the night theme, grabbed over their own frame
    from the X screen: dark (no glaring surface: median and 90th percentile of the
    luminance low) with light text on it (contrast), and not the empty screen."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name in NIGHT_SHOTS:
        (ARTIFACTS / name).unlink(missing_ok=True)
    env = xvfb_env
    for script, extra in (("screenshot_night.py", []), ("screenshot_wizard.py", ["--night"])):
        db = shutil.copyfile(demo_template, tmp_path / f"{script}.sqlite3")  # one each
        out = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / script),
                "--out-dir",
                str(ARTIFACTS),
                "--db",
                str(db),
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr[-3000:]
    for name in NIGHT_SHOTS:
        lum = luminance(ARTIFACTS / name)
        assert lum.shape[0] > 150 and lum.shape[1] > 300, (name, lum.shape)
        assert (lum < 2).mean() < 0.05, f"{name}: the empty screen, not a window"
        # Day: the window's grey and the white fields give a median near 240.
        assert np.median(lum) < 60, f"{name}: median luminance {np.median(lum):.0f}"
        assert np.percentile(lum, 90) < 90, f"{name}: bright surfaces (90th percentile)"
        # Text: a share of pixels far lighter than the background.
        assert (lum > np.median(lum) + 100).mean() > 0.002, f"{name}: no legible text"
