"""The core's type hints are checked (mypy), so they stay true."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ["app/domain", "app/hub", "app/client", "app/db/models.py", "app/db/engine.py",
           "app/db/types.py", "app/db/migrate.py", "app/bench", "app/demo",
           "telephony/line.py", "telephony/training.py", "telephony/scenarios.py"]


def test_core_type_checks() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports",
                          "--python-version", "3.11", "--no-error-summary",
                          "--cache-dir", str(ROOT / ".mypy_cache"), *CHECKED],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
