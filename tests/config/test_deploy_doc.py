"""Every command line of docs/deploy.md is started here, in the order of the page, on a
room in a temporary folder: the example configuration installed as /etc/sasdesk/hub.toml,
a throwaway PostgreSQL cluster, the repository's Kamailio configuration."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.waits import wait_until
from ui.launch import WIZARD_SHOWN

pytestmark = pytest.mark.peers  # PostgreSQL and Kamailio, as the page's room has them

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
MOVED = (
    "/etc/sasdesk",
    "/etc/kamailio",
    "/etc/xdg/sasdesk",
    "/var/lib/sasdesk",
    "/var/backups/sasdesk",
)


def doc_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Room:
    root: Path
    ports: dict[str, int]
    env: dict[str, str]

    def localise(self, line: str) -> str:
        line = line.replace("sudo -u postgres ", "")  # the test is the cluster's superuser
        for folder in MOVED:
            line = line.replace(folder, str(self.root / folder.lstrip("/")))
        for written, port in self.ports.items():
            line = line.replace(written, str(port))
        return line


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    from tests.pg import postgres_cluster

    with postgres_cluster() as server:
        url = make_url(server)
        admin = create_engine(
            str(url.set(drivername="postgresql+psycopg", database="postgres")),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:  # the page creates the room's database itself
            conn.execute(text("DROP DATABASE sasdesk"))
        admin.dispose()
        for folder in MOVED:
            (tmp_path / folder.lstrip("/")).mkdir(parents=True)
        (tmp_path / "var/lib/sasdesk/enregistrements").mkdir()
        ports = {"8765": free_port(), "8766": free_port()}
        example = (ROOT / "resources" / "hub.toml.example").read_text(encoding="utf-8")
        example = example.replace("/var/lib/sasdesk", str(tmp_path / "var/lib/sasdesk"))
        example = example.replace("port = 8765", f"port = {ports['8765']}")
        example = re.sub(
            r'^url = "sqlite:[^"]*"',  # section 1's URL, on the throwaway cluster
            f'url = "postgresql://sasdesk@127.0.0.1:{url.port}/sasdesk"',
            example,
            flags=re.M,
        )
        assert f":{url.port}/sasdesk" in example
        (tmp_path / "etc/sasdesk/hub.toml").write_text(example, encoding="utf-8")
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "sasdesk"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m app.cli "$@"\n')
        shim.chmod(0o755)
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONPATH": str(ROOT),
            "PGHOST": "127.0.0.1",
            "PGPORT": str(url.port),
            "PGUSER": "postgres",
            "SASDESK_CONFIG": "",
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_CONFIG_DIRS": str(tmp_path / "etc/xdg"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
        yield Room(tmp_path, ports, env)


def keeps_running(room: Room, line: str) -> None:
    """A service command (a hub, a desk): it starts, does its job, and is stopped."""
    desk_log = Path(room.env["XDG_STATE_HOME"]) / "sasdesk" / "log" / "desk.log"

    def wizards_shown() -> int:
        return desk_log.read_text(encoding="utf-8").count(WIZARD_SHOWN) if desk_log.exists() else 0

    before = wizards_shown()
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {line}"],
        cwd=ROOT,
        env=room.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        if " hub " in f" {line} ":
            port = room.ports["8766"] if "hub-b.toml" in line else room.ports["8765"]
            deadline = time.monotonic() + 60
            while not listening(port):
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, line
                time.sleep(0.1)
        else:  # the desk's wizard: it waits for its user
            wait_until(
                lambda: proc.poll() is not None or wizards_shown() > before,
                "the desk's wizard shown",
                timeout=60,
            )
            assert proc.poll() is None, proc.communicate()[0]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "Traceback" not in out, out


def test_every_command_of_the_deploy_guide_runs(room: Room) -> None:
    commands = doc_commands()
    assert len(commands) >= 15
    for written in commands:
        line = room.localise(written)
        if re.match(r"sasdesk (hub --config|desk)", line):
            keeps_running(room, line)
            continue
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=ROOT,
            env=room.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{written}\n{done.stdout}\n{done.stderr}"
    backups = list((room.root / "var/backups/sasdesk").glob("sasdesk-*.tar"))
    assert backups, "the nightly backup line wrote nothing"
    users = (room.root / "etc/kamailio/sasdesk-users.cfg").read_text()
    assert re.fullmatch(
        r'\$sht\(users=>arm01\) = "[0-9a-f]{24}";\n'
        r'\$sht\(groups=>arm01\) = "n1";\n',
        users,
    )
