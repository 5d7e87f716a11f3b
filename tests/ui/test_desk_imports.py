"""The desk stands on the wire layer: started and logged in, its main window has imported
no hub-side module and no database module (issue 18).

The desk runs in a subprocess, so that what it imported is its own doing (this test
process holds the hub, SQLAlchemy and every handler). It logs in as each role in turn,
builds each role's main window as ``sasdesk desk`` does (ui.desk.Desk) and reports the
modules loaded. The forbidden modules are the import contract's (``desk-no-hub-side``
in pyproject.toml): the contract sees the imports written in the code, this test also
sees those a package's ``__init__`` or an import by name would add at run time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("n1", "n2", "amu", "mrl", "osnp", "sup")

DESK = """
import asyncio, json, sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from app.client.hub_client import HubClient
from ui.desk import Desk

url, password, folder, *users = sys.argv[1:]
app = QApplication([])


async def main() -> list[str]:
    shown, desks = [], []
    for user in users:
        desk = Desk(HubClient(url, desk=user, journal=Path(folder) / f"{user}.json"), None)
        await desk.client.connect()
        await desk.client.login(user, password)
        window = desk.build()
        window.show()
        shown.append(type(window).__name__ if window.isVisible() else "")
        desks.append(desk)
    for desk in desks:
        await desk.client.close()
    return shown


with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:  # as ui.launch
    shown = runner.run(main())
print(json.dumps({"shown": shown, "modules": sorted(sys.modules)}))
"""


def forbidden_patterns() -> list[re.Pattern[str]]:
    """The contract's forbidden modules, as import-linter matches them (a module and what
    is under it; ``*`` one name)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = (
        c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "desk-no-hub-side"
    )
    return [
        re.compile(re.escape(name).replace(r"\*", r"[^.]+") + r"(\..+)?$")
        for name in contract["forbidden_modules"]
    ]


def hub_side(modules: list[str]) -> list[str]:
    patterns = forbidden_patterns()
    return [m for m in modules if any(p.match(m) for p in patterns)]


def test_the_rule_names_what_the_hub_side_is() -> None:
    """The check can fail: it recognises the modules the desk used to import."""
    assert hub_side(
        ["sqlalchemy.orm", "app.db.models", "app.callback.hub", "app.hub.service",
         "app.interop.fhir_hub", "app.callback.protocol", "app.hub.protocol", "app.hub"]
    ) == ["sqlalchemy.orm", "app.db.models", "app.callback.hub", "app.hub.service",
          "app.interop.fhir_hub"]  # fmt: skip


def test_the_started_desk_imports_no_hub_side_module(hub_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", DESK, hub_url, PASSWORD, str(tmp_path), *ROLES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["shown"] == ["DeskWindow"] * len(ROLES)  # every role's main window
    assert "ui.main_window" in report["modules"] and "app.client.wire" in report["modules"]
    assert hub_side(report["modules"]) == []
