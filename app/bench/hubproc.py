"""The hub as the benches start it: a ``sasdesk hub`` child process and its environment.

The flow, hub-start and soak benches each run real hub processes (killed -9 in the
soak and hub-start ones); they start them with one command line, written here.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def hub_command(url: str, port: int, store: Path) -> list[str]:
    """``sasdesk hub`` on ``port`` (127.0.0.1), database ``url``, recordings in ``store``."""
    return [
        sys.executable,
        "-m",
        "app.cli",
        "hub",
        "--db",
        url,
        "--port",
        str(port),
        "--recordings",
        str(store),
    ]


def bench_env(pycache: bool = True) -> dict[str, str]:
    """The children's environment: bytecode cached as an installed package has it
    (PyInstaller bundles .pyc; a dev shell may say PYTHONDONTWRITEBYTECODE)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if pycache and env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "sasdesk-pycache"))
    return env
