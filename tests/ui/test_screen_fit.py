"""Every role's desk at 1366×768 and 1920×1080 under Xvfb, by day and in the night theme:
the window within the screen, every visible button of the window inside it (reachable,
scrolled to if its dock scrolls), no main list scrolling sideways, and the buttons the
role works with in view without any scrolling (the MRL's decision and slot booking, the
OSNP's "Réserver" / "Appeler le médecin" and call-back outcome…). The screenshots stay
in artifacts/ (fit-<role>-<size>.png and fit-<role>-<size>-night.png; a dock behind a tab
checked in turn: fit-<role>-<size>[-night]-<dock>.png)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.callback.vocab import AttemptResult

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
#: One demo account per role: ARM N1 and N2, AMU doctor, MRL, OSNP, supervisor, CPTS.
ROLES = ("arm1", "armn2", "amu", "mrl", "osnp", "superviseur", "cpts")
SIZES = ("1366x768", "1920x1080")
#: The buttons each role must see without scrolling in the scene scripts/screenshot_desk.py
#: sets up for it (a ringing call, a dossier taken, a search under way…).
KEYS = {
    "arm1": {"answerButton", "hangupButton", "sendButton", "closeButton"},
    "armn2": {"forwardButton", "closeDossierButton", "releaseButton", "hangupButton"},
    "amu": {"decideButton", "closeDossierButton", "moveTrackButton", "releaseButton",
            "bookButton", "callDoctor"},
    "mrl": {"decideButton", "closeDossierButton", "moveTrackButton", "releaseButton",
            "bookButton", "callDoctor"},
    "osnp": {"takeTask", "closeTask", "bookButton", "callDoctor", "hangupButton",
             *(f"result_{r}" for r in AttemptResult)},
    "superviseur": {"answerButton", "hangupButton", "sendButton", "closeButton",
                    "forwardButton", "closeDossierButton", "releaseButton", "bookButton",
                    "callDoctor"},
    "cpts": {"home_open_import", "home_open_statistics"},
}  # fmt: skip
CASES = [(user, size) for size in SIZES for user in ROLES]


@pytest.mark.xvfb
@pytest.mark.parametrize(("user", "screen_size"), CASES)
def test_the_desk_fits_the_screen(
    user: str, screen_size: str, xvfb_env: dict[str, str], demo_db: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    env = xvfb_env
    shot, report = (
        ARTIFACTS / f"fit-{user}-{screen_size}.png",
        ARTIFACTS / f"fit-{user}-{screen_size}.json",
    )
    night, night_report = (
        shot.with_name(shot.stem + "-night.png"),
        report.with_name(report.stem + "-night.json"),
    )
    for f in (shot, report, night, night_report):
        f.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshot_desk.py"), "--user", user,
         "--out", str(shot), "--fit-json", str(report),
         "--night-out", str(night), "--night-fit-json", str(night_report),
         "--db", str(demo_db)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, f"{user}: {out.stderr[-3000:]}"
    w, h = (int(x) for x in screen_size.split("x"))
    for theme, path in (("day", report), ("night", night_report)):
        fit = json.loads(path.read_text(encoding="utf-8"))
        assert fit["screen"][2:] == [w, h]
        assert fit["window"][2] >= w * 0.9, f"{user} {theme} not maximised: {fit['window']}"
        assert not fit["problems"], f"{theme}:\n" + "\n".join(fit["problems"])
        missing = KEYS[user] - set(fit["key_buttons"])
        assert not missing, f"{user} {theme}: not in view without scrolling: {sorted(missing)}"


@pytest.mark.xvfb
@pytest.mark.parametrize("screen_size", ["1366x768"])
def test_bigger_text_scrolls_down_instead_of_leaving_the_screen(
    screen_size: str, xvfb_env: dict[str, str], demo_db: Path
) -> None:
    """Ctrl+plus twice on the MRL's 768-pixel screen: the window stays on the screen,
    the dossier scrolls down (never sideways), every button can be scrolled to."""
    ARTIFACTS.mkdir(exist_ok=True)
    env = xvfb_env
    shot, report = (
        ARTIFACTS / f"fit-mrl-{screen_size}-bigger.png",
        ARTIFACTS / f"fit-mrl-{screen_size}-bigger.json",
    )
    for f in (shot, report):
        f.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshot_desk.py"), "--user", "mrl",
         "--bigger", "2", "--out", str(shot), "--fit-json", str(report),
         "--db", str(demo_db)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    fit = json.loads(report.read_text(encoding="utf-8"))
    w, h = (int(x) for x in screen_size.split("x"))
    assert fit["window"] == [0, 0, w, h], f"the window left the screen: {fit['window']}"
    cut = [p for p in fit["problems"] if "without scrolling" not in p]
    assert not cut, "\n".join(cut)
    assert {"bookButton", "callDoctor"} <= set(fit["key_buttons"])  # the slot search stays
