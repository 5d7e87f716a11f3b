"""End to end under Xvfb: the real desk and a real hub whose room requires Pro Santé
Connect of its MRLs, against the PSC double on loopback. The MRL logs in from the keyboard
with the code shown, decides, and the timeline and ``sasdesk audit`` name the identity
proven; then, PSC down, the dialog offers the password with a reason.
``scripts/screenshot_psc.py`` drives it and grabs artifacts/psc-*.png to be looked at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SHOTS = ("psc-login-code.png", "psc-desk-decided.png", "psc-relogin-code.png",
         "psc-login-fallback.png")  # fmt: skip


def audit(db: Path, *options: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "--db", f"sqlite:///{db}", "--json", *options],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


@pytest.mark.xvfb
def test_the_mrl_logs_in_with_psc_decides_and_the_identity_is_named(
    xvfb_env: dict[str, str], tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for name in SHOTS:
        (ARTIFACTS / name).unlink(missing_ok=True)
    db, report_file = tmp_path / "room.sqlite3", tmp_path / "report.json"
    env = xvfb_env
    command = [sys.executable, str(ROOT / "scripts" / "screenshot_psc.py")]
    command += ["--out-dir", str(ARTIFACTS), "--db", str(db), "--report", str(report_file)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(report_file.read_text(encoding="utf-8"))
    nid = report["national_id"]

    # The dialog showed the two digits PSC sent to the phone, and the time left.
    binding = report["binding_message"]
    assert len(binding) == 2 and binding.isdigit()
    assert report["code_text"] == f"Code à vérifier sur votre téléphone ou lecteur CPS : {binding}"
    assert report["time_left"].startswith("Temps restant : ")
    # The desk names who is at it, and the decision says who took it and how proven.
    assert report["account"].endswith(
        f"(mrl) — identifiant national {nid} — connecté par Pro Santé Connect"
    )
    decided = [line for line in report["timeline"] if "Décision médicale" in line]
    assert len(decided) == 1, report["timeline"]
    assert decided[0].endswith(f"(identifiant national {nid}, connecté par Pro Santé Connect)")
    assert "Pro Santé Connect ne répond pas" in report["fallback_message"]
    # The session ended and was proven again with PSC, a new code shown.
    assert report["relogin_code_text"].startswith("Code à vérifier sur votre téléphone")
    assert report["relogin_auth"] == "psc"

    # The hub's audit names the same identity, for the login and for the decision.
    logins = audit(db, "--logins")["logins"]
    mine = [r for r in logins if r["username"] == "mrl"]
    assert mine and mine[0]["national_id"] == nid and mine[0]["auth"] == "psc", logins
    decisions = audit(db, "--decisions")["decisions"]
    assert len(decisions) == 1, decisions
    assert decisions[0]["dossier_number"] == report["dossier"]
    assert decisions[0]["national_id"] == nid and decisions[0]["auth"] == "psc"

    for name in SHOTS:  # grabbed from the X screen: a real window, not a black frame
        image = QImage(str(ARTIFACTS / name))
        assert image.width() > 300 and image.height() > 200, name
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 17)
            for y in range(0, image.height(), 13)
        }
        assert len(colours) > 8, name
