"""The type hints of the whole tree are checked (mypy): the product, its tests, its scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Every directory of the repository that holds Python: the product (app/, ui/,
#: telephony/), the packages (installer/), the tests and the scripts. The migrations
#: (app/db/migrations) are inside app/ and checked with it.
CHECKED = ["app", "ui", "telephony", "installer", "tests", "scripts"]


def test_every_python_file_of_the_repository_is_checked() -> None:
    """A new top-level directory of Python cannot slip outside the check (it can fail)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed, "git lists no Python file: not run from the repository?"
    outside = [f for f in listed if f.split("/", 1)[0] not in CHECKED]
    assert not outside, f"Python files outside mypy's CHECKED list: {outside}"


@pytest.mark.beside_package  # one core, no timing: scripts/test.sh runs it beside the build
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
            # Every function says what it takes and gives, test fixtures included.
            "--disallow-untyped-defs",
            "--disallow-incomplete-defs",
            "--check-untyped-defs",
            # An ignore that silences nothing goes: it would hide the next error on its
            # line (ruff format moves trailing comments onto other lines of a call).
            "--warn-unused-ignores",
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
