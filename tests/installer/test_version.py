"""``sasdesk --version`` comes from the package metadata, whose one source is pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import app

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_one_of_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert version("sasdesk") == declared["project"]["version"]
    assert app.__version__ == declared["project"]["version"]


def test_sasdesk_version_prints_it() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"sasdesk {version('sasdesk')}"
