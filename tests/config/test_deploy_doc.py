"""Every command line of docs/deploy.md is started here, in the order the document
gives them, on a room in a temporary folder (the example configuration installed as
/etc/sasdesk/hub.toml would be)."""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
MOVED = ("/etc/sasdesk", "/var/lib/sasdesk", "/var/backups/sasdesk")


def doc_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def room(tmp_path: Path) -> tuple[Path, int]:
    """The example configuration, installed with its folders under ``tmp_path``."""
    for folder in MOVED:
        (tmp_path / folder.lstrip("/")).mkdir(parents=True)
    (tmp_path / "var/lib/sasdesk/enregistrements").mkdir()
    port = free_port()
    text = (ROOT / "resources" / "hub.toml.example").read_text(encoding="utf-8")
    text = text.replace("/var/lib/sasdesk", str(tmp_path / "var/lib/sasdesk"))
    text = text.replace("port = 8765", f"port = {port}")
    (tmp_path / "etc/sasdesk/hub.toml").write_text(text, encoding="utf-8")
    return tmp_path, port


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def localise(line: str, root: Path) -> list[str]:
    for folder in MOVED:
        line = line.replace(folder, str(root / folder.lstrip("/")))
    args = shlex.split(line)
    assert args[0] == "sasdesk", f"command not covered by this test: {line}"
    return [sys.executable, "-m", "app.cli", *args[1:]]


def test_every_sasdesk_command_of_the_deploy_guide_runs(room: tuple[Path, int]) -> None:
    root, port = room
    commands = doc_commands()
    assert len(commands) >= 5
    for line in commands:
        argv = localise(line, root)
        if argv[3:5] == ["hub", "--config"]:  # the service itself: starts, serves, stops
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.monotonic() + 60
                while not listening(port):
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, line
                    time.sleep(0.1)
            finally:
                proc.terminate()
                proc.communicate(timeout=30)
            continue
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
