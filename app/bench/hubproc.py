"""The hub as the benches start it: a ``sasdesk hub`` child process and its environment.

The flow, hub-start and soak benches each run real hub processes (killed -9 in the
soak and hub-start ones); they start them with one command line, written here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
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


def wait_port(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until the hub ``proc`` accepts connections on ``port``; a hub that stopped says why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"le hub s'est arrêté : {proc.stderr.read() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("le hub n'a pas ouvert son port à temps")


def start_hubs(
    commands: list[list[str]], ports: list[int], env: dict[str, str]
) -> list[subprocess.Popen[str]]:
    """One hub process per command, each waited for on its port (stderr kept: a hub that
    stops at start says why). The caller terminates them."""
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_port(port, proc)
    except BaseException:
        for proc in procs:
            proc.kill()
            proc.wait()
        raise
    return procs
