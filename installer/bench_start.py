"""Start-up time of a sasdesk build: process start to the login window shown on X.

    python installer/bench_start.py --sasdesk /usr/bin/sasdesk --runs 5 [--cold] [--json]

Starts a hub with the same program (temporary SQLite database, demo accounts) unless
``--hub`` names one, and an Xvfb display unless ``--display`` names one. Each run
starts ``SASDESK desk --hub URL`` with an empty home directory and waits until X shows
the login window mapped ("sasdesk — connexion"), polled with xwininfo every 10 ms.
``--cold`` drops the page cache before each run (root only), so the program's files
come from disk as after a reboot. Same-run baseline: ``SASDESK --version`` (the
bundle's loader and Python start, no Qt); ``--compare PROGRAM`` also times another
program's desk the same way, interleaved (e.g. ``.venv/bin/sasdesk`` from a checkout).
Prints JSON: medians, samples, ratios; ``login_window_cpu`` is the CPU (user + system)
the desk and its children had spent when the window showed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TITLE = "sasdesk — connexion"
_WINDOW = re.compile(r"^\s*(0x[0-9a-f]+) \"" + re.escape(TITLE), re.MULTILINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def xvfb() -> Iterator[str]:
    """A fresh Xvfb server on a free display number.

    ``-noreset``: without it the server resets whenever its last client leaves (each
    xwininfo poll, each desk stopped), and a desk that connects during that reset fails
    with "could not connect to display" and aborts."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            "1600x1000x24",
            "-noreset",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def hub(sasdesk: str, home: Path) -> Iterator[str]:
    """The program's own hub on a free port and a temporary database, demo accounts."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sasdesk,
            "hub",
            "--db",
            f"sqlite:///{home / 'hub.sqlite3'}",
            "--port",
            str(port),
            "--demo",
        ],
        # SASDESK_CONFIG="": no configuration file, not even an installed /etc/sasdesk one.
        env={**os.environ, "HOME": str(home), "SASDESK_CONFIG": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not _listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"hub did not start: {err[-2000:]}")
        time.sleep(0.1)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def login_window_mapped(display: str) -> bool:
    env = {**os.environ, "DISPLAY": display}
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True
    ).stdout
    for window in _WINDOW.findall(tree):
        info = subprocess.run(
            ["xwininfo", "-id", window], env=env, capture_output=True, text=True
        ).stdout
        if "IsViewable" in info:
            return True
    return False


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process and of its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, total = {pid}, 0.0
    for child in sorted(parents):  # children have higher pids, unless pids wrapped
        if parents[child] in tree:
            tree.add(child)
    for member in tree:
        total += spent.get(member, 0.0)
    return total


def time_desk(
    sasdesk: str, url: str, display: str, cold: bool, timeout: float
) -> tuple[float, float]:
    """Wall time from the start to the login window shown, and the CPU the desk (and
    what it started) had spent by then."""
    with tempfile.TemporaryDirectory(prefix="sasdesk-bench-") as home:
        if cold:
            drop_caches()
        env = {**os.environ, "DISPLAY": display, "HOME": home, "QT_QPA_PLATFORM": "xcb"}
        env.pop("XDG_DATA_HOME", None)
        log = Path(home) / "desk.log"
        start = time.perf_counter()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sasdesk, "desk", "--hub", url], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            while not login_window_mapped(display):
                if proc.poll() is not None:
                    said = log.read_text(errors="replace")[-4000:]
                    code = proc.returncode
                    raise SystemExit(f"the desk exited with {code} before its window:\n{said}")
                if time.perf_counter() - start > timeout:
                    raise SystemExit(f"no login window after {timeout:.0f} s")
                time.sleep(0.01)
            return time.perf_counter() - start, cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def time_version(sasdesk: str, cold: bool) -> float:
    if cold:
        drop_caches()
    start = time.perf_counter()
    subprocess.run([sasdesk, "--version"], check=True, capture_output=True)
    return time.perf_counter() - start


def summary(samples: list[float]) -> dict[str, object]:
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "samples_s": [round(s, 3) for s in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sasdesk", default="/usr/bin/sasdesk", help="the program to time")
    parser.add_argument("--hub", default=None, help="ws:// URL of a running hub")
    parser.add_argument("--display", default=None, help="an X display (default: own Xvfb)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each run")
    parser.add_argument("--compare", default=None, help="another sasdesk to time the same way")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", action="store_true", help="JSON only (default: JSON too)")
    args = parser.parse_args(argv)
    sasdesk = shutil.which(args.sasdesk) or args.sasdesk
    if args.cold and os.geteuid() != 0:
        parser.error("--cold needs root (it writes /proc/sys/vm/drop_caches)")
    with tempfile.TemporaryDirectory(prefix="sasdesk-bench-hub-") as tmp:
        with xvfb() if args.display is None else _given(args.display) as display:
            with hub(sasdesk, Path(tmp)) if args.hub is None else _given(args.hub) as url:
                desk, desk_cpu, other, other_cpu = [], [], [], []
                for _ in range(args.runs):
                    wall, cpu = time_desk(sasdesk, url, display, args.cold, args.timeout)
                    desk.append(wall)
                    desk_cpu.append(cpu)
                    if args.compare:
                        wall, cpu = time_desk(args.compare, url, display, args.cold, args.timeout)
                        other.append(wall)
                        other_cpu.append(cpu)
                version = [time_version(sasdesk, args.cold) for _ in range(args.runs)]
    result = {
        "program": sasdesk,
        "runs": args.runs,
        "cold": args.cold,
        "login_window": summary(desk),
        "login_window_cpu": summary(desk_cpu),
        "baseline_version": summary(version),
        "ratio_to_baseline": round(statistics.median(desk) / statistics.median(version), 2),
    }
    if other:
        result["compared"] = {
            "program": args.compare,
            "login_window": summary(other),
            "login_window_cpu": summary(other_cpu),
        }
        result["ratio_to_compared"] = round(statistics.median(desk) / statistics.median(other), 2)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


@contextmanager
def _given(value: str) -> Iterator[str]:
    yield value


if __name__ == "__main__":
    sys.exit(main())
