"""The type hints of every module of app/, ui/ and telephony/ are checked (mypy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The whole tree the product ships; tests/ is not checked yet (58 errors, mostly
#: untyped fixtures).
CHECKED = ["app", "ui", "telephony"]
#: The packages (issue 11): the shared bundle list, the start-up bench, their tests.
CHECKED += [
    "installer/bundle.py",
    "installer/bench_start.py",
    "installer/make_icons.py",
    "tests/installer",
]


def test_core_type_checks() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--ignore-missing-imports",
            "--python-version",
            "3.11",
            "--no-error-summary",
            "--follow-imports",
            "silent",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            *CHECKED,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
