"""The Debian package, end to end, on this machine (root, Debian, no systemd as PID 1):

build it from a clean clone of HEAD with installer/build-linux.sh, install it with
apt-get, run the installed program as the packaged service would (the unit's own
ExecStart, as the ``sasdesk`` user, configuration from /etc/sasdesk), connect a client,
start the installed desk under Xvfb against that hub and grab the screen, then remove
and purge the package and check what stays. Run by ``.ci/run`` after the main suite
(``scripts/test.sh --package``); figures go to artifacts/package.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from app.client.hub_client import HubClient
from tests.xvfb import x_display

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
UNIT = Path("/lib/systemd/system/sasdesk-hub.service")
DATA = Path("/var/lib/sasdesk")
# The command lines docs/deploy.md gives (its ```bash blocks), each run here as written
# (apt-get with -y added); tests/installer/test_docs.py checks the document against them.
BUILD_LINE = "installer/build-linux.sh"
INSTALL_LINE = f"apt-get install ./dist/sasdesk_{VERSION}_amd64.deb"
PRESEED_LINE = 'echo "sasdesk sasdesk/purge-data boolean true" | debconf-set-selections'
BENCH_LINE = "python installer/bench_start.py --sasdesk /usr/bin/sasdesk --runs 5 --cold --json"
DOC_LINES = (BUILD_LINE, INSTALL_LINE, PRESEED_LINE, BENCH_LINE)
KEEP_MESSAGE = "les données du hub sont conservées dans /var/lib/sasdesk"

pytestmark = [
    pytest.mark.package,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a Debian package: needs root"),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="not a Debian system"),
]

GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv)
sys.exit(0 if QGuiApplication.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)
"""


def run(
    *cmd: str,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    if check and out.returncode != 0:
        raise AssertionError(
            f"{shlex.join(cmd)} -> {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def exec_start() -> list[str]:
    """The unit's ExecStart, as systemd would run it."""
    match = re.search(r"^ExecStart=(.+)$", UNIT.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "no ExecStart in the unit"
    return shlex.split(match.group(1))


def unit_user() -> str:
    match = re.search(r"^User=(.+)$", UNIT.read_text(encoding="utf-8"), re.MULTILINE)
    assert match
    return match.group(1).strip()


@contextmanager
def service_hub(port: int) -> Iterator[subprocess.Popen[str]]:
    """The hub as the unit runs it: ExecStart as User=, in /var/lib/sasdesk."""
    cmd = ["runuser", "-u", unit_user(), "--", *exec_start(), "--port", str(port), "--demo"]
    # Its own process group: runuser does not pass a signal on to the hub, so the hub is
    # stopped as systemd stops a unit, by signalling the whole group (SIGTERM).
    proc = subprocess.Popen(
        cmd,
        cwd=DATA,
        env={**os.environ, "HOME": str(DATA)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while not listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"the installed hub did not start:\n{out[-4000:]}")
            time.sleep(0.2)
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # Nothing of the hub is left running as its user.
        deadline = time.monotonic() + 30
        while run("pgrep", "-u", "sasdesk", check=False).returncode == 0:
            assert time.monotonic() < deadline, "a process of the sasdesk user outlived the hub"
            time.sleep(0.2)


async def talk_to(url: str) -> dict[str, Any]:
    client = HubClient(url, reconnect=False)
    welcome = await client.connect()
    try:
        await client.login("osnp", "demo")
        found = await client.request("directory.search", commune_insee="17300", limit=5)
    finally:
        await client.close()
    return {"welcome": welcome, "found": found}


def wait_for_login_window(display: str, desk: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = run("xwininfo", "-root", "-tree", env={"DISPLAY": display}, check=False).stdout
        if "sasdesk — connexion" in tree:
            return
        if desk.poll() is not None:
            out = desk.stdout.read() if desk.stdout else ""
            raise AssertionError(f"the installed desk exited with {desk.returncode}:\n{out}")
        time.sleep(0.1)
    raise AssertionError("no login window from the installed desk")


class Figures(dict[str, Any]):
    """The test's measurements, written to artifacts/package.json as they come (a failed
    run leaves what it measured, never an earlier run's figures)."""

    def __init__(self, first: dict[str, Any]) -> None:
        super().__init__()
        for key, value in first.items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "package.json").write_text(json.dumps(self, indent=2), encoding="utf-8")


def installed(package: str = "sasdesk") -> bool:
    out = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return "install ok installed" in out.stdout


def test_deb_builds_installs_runs_and_purges(tmp_path: Path) -> None:
    figures = Figures({"version": VERSION})
    # A purge answer left in debconf by an earlier run would answer for this one.
    run("sh", "-c", "echo PURGE | debconf-communicate sasdesk", check=False)
    # --- build on a clean clone of HEAD --------------------------------------------
    src = tmp_path / "src"
    run("git", "clone", "--quiet", "--no-local", str(ROOT), str(src))
    start = time.monotonic()
    python = os.environ.get("PYTHON") or str(getattr(sys, "_base_executable", sys.executable))
    build = run("sh", "-c", BUILD_LINE, cwd=src, env={"PYTHON": python}, timeout=1200)
    figures["build_s"] = round(time.monotonic() - start, 1)
    deb = src / "dist" / f"sasdesk_{VERSION}_amd64.deb"
    assert deb.is_file(), build.stdout
    figures["deb_bytes"] = deb.stat().st_size
    fields = run(
        "dpkg-deb",
        "-f",
        str(deb),
        "Package",
        "Version",
        "Architecture",
        "Installed-Size",
        "Depends",
    ).stdout
    assert f"Version: {VERSION}" in fields and "Architecture: amd64" in fields
    size = re.search(r"Installed-Size: (\d+)", fields)
    assert size is not None, fields
    figures["installed_size_kib"] = int(size[1])
    contents = run("dpkg-deb", "-c", str(deb)).stdout
    for path in (
        "./opt/sasdesk/sasdesk",
        "./usr/bin/sasdesk -> /opt/sasdesk/sasdesk",
        "./usr/share/applications/sasdesk.desktop",
        "./usr/share/icons/hicolor/scalable/apps/sasdesk.svg",
        "./lib/systemd/system/sasdesk-hub.service",
        "./etc/sasdesk/hub.toml",
        "./opt/sasdesk/_internal/resources/style/desk.qss",
        "./opt/sasdesk/_internal/app/db/migrations/env.py",
        "./opt/sasdesk/_internal/PySide6/Qt/plugins/platforms/libqxcb.so",
        "./opt/sasdesk/_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "./opt/sasdesk/_internal/libportaudio.so.2",
    ):
        assert path in contents, f"{path} not in the package"
    conffiles = run("dpkg-deb", "-I", str(deb), "conffiles").stdout.split()
    assert conffiles == ["/etc/sasdesk/hub.toml"]

    # --- install ----------------------------------------------------------------
    assert not installed(), "sasdesk is already installed on this machine"
    run(
        *shlex.split(INSTALL_LINE),
        "-y",
        cwd=src,
        env={"DEBIAN_FRONTEND": "noninteractive"},
        timeout=900,
    )
    assert installed()
    try:
        version = run("/usr/bin/sasdesk", "--version").stdout.strip()
        assert version == f"sasdesk {VERSION}"
        user = pwd.getpwnam("sasdesk")
        assert user.pw_uid < 1000 and user.pw_dir == str(DATA)
        assert user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
        st = DATA.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, 0o750)
        conf = Path("/etc/sasdesk/hub.toml").stat()
        assert (conf.st_uid, conf.st_gid, stat.S_IMODE(conf.st_mode)) == (0, user.pw_gid, 0o640)
        if shutil.which("desktop-file-validate"):
            run("desktop-file-validate", "/usr/share/applications/sasdesk.desktop")
        if shutil.which("systemd-analyze"):
            verify = run("systemd-analyze", "verify", str(UNIT), check=False)
            assert verify.returncode == 0, verify.stderr
        unit = UNIT.read_text(encoding="utf-8")
        for option in (
            "Restart=on-failure",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "ReadWritePaths=/var/lib/sasdesk",
            "User=sasdesk",
        ):
            assert option in unit.splitlines(), option
        assert exec_start()[:4] == ["/usr/bin/sasdesk", "hub", "--config", "/etc/sasdesk/hub.toml"]

        # --- the hub as the service runs it, a client, the desk -----------------
        port = free_port()
        url = f"ws://127.0.0.1:{port}"
        with service_hub(port):
            talk = asyncio.run(talk_to(url))
            assert talk["welcome"]["hub"] == VERSION
            assert talk["found"]["search"]["doctors"]  # an extension's intent answers
            # Every file the hub wrote is in its data directory, owned by it.
            written = [p for p in DATA.rglob("*")]
            assert written, "the hub wrote nothing in /var/lib/sasdesk"
            assert {p.stat().st_uid for p in written} == {user.pw_uid}
            with x_display() as display:
                home = tmp_path / "desk-home"
                home.mkdir()
                start = time.monotonic()
                desk = subprocess.Popen(
                    ["/usr/bin/sasdesk", "desk", "--hub", url],
                    env={
                        **os.environ,
                        "DISPLAY": display,
                        "HOME": str(home),
                        "QT_QPA_PLATFORM": "xcb",
                    },
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                try:
                    wait_for_login_window(display, desk, timeout=120)
                    figures["desk_login_window_first_s"] = round(time.monotonic() - start, 2)
                    time.sleep(1.0)  # let it paint
                    ARTIFACTS.mkdir(exist_ok=True)
                    shot = ARTIFACTS / "package-desk-login.png"
                    run(
                        sys.executable,
                        "-c",
                        GRAB,
                        str(shot),
                        env={"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
                    )
                    assert shot.stat().st_size > 10_000
                finally:
                    desk.terminate()
                    desk.wait(20)
        db_files = sorted(p.name for p in DATA.iterdir())
        # The start-up bench, as docs/deploy.md gives it (its own hub and Xvfb).
        bench = run(sys.executable, *shlex.split(BENCH_LINE)[1:], cwd=ROOT, timeout=900)
        figures["bench_start"] = json.loads(bench.stdout)
    finally:
        # --- remove: the program goes, configuration and data stay ---------------
        removed = run(
            "apt-get",
            "remove",
            "-y",
            "-q",
            "sasdesk",
            env={"DEBIAN_FRONTEND": "noninteractive"},
            check=False,
        )
    assert removed.returncode == 0, removed.stderr
    assert not Path("/opt/sasdesk").exists() and not Path("/usr/bin/sasdesk").exists()
    assert not UNIT.exists()
    assert Path("/etc/sasdesk/hub.toml").exists()  # a conffile stays until purge
    assert sorted(p.name for p in DATA.iterdir()) == db_files
    assert pwd.getpwnam("sasdesk")

    # --- purge without an answer (non-interactive debconf): data kept, said how --
    purge = run("dpkg", "--purge", "sasdesk", env={"DEBIAN_FRONTEND": "noninteractive"})
    assert KEEP_MESSAGE in purge.stdout + purge.stderr
    assert not Path("/etc/sasdesk").exists()
    assert sorted(p.name for p in DATA.iterdir()) == db_files
    # --- install again, purge answering yes: data and user gone ----------------
    run("dpkg", "-i", str(deb), env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=900)
    assert sorted(p.name for p in DATA.iterdir()) == db_files  # kept data is reused
    run("sh", "-c", PRESEED_LINE)
    purge = run("dpkg", "--purge", "sasdesk", env={"DEBIAN_FRONTEND": "noninteractive"})
    assert not DATA.exists()
    with pytest.raises(KeyError):
        pwd.getpwnam("sasdesk")
    assert not installed()
    figures["kept_after_remove"] = db_files
    print(json.dumps(figures))
