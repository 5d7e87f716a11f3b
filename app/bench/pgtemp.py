"""A throwaway PostgreSQL cluster on 127.0.0.1 (Debian's postgresql): for the tests and
for ``sasdesk bench soak|flow --pg-temp``."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is missing: run scripts/setup.sh --test (it installs postgresql)"
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def postgres_cluster(
    server_options: str = "", prepare: Callable[[Path], None] | None = None
) -> Iterator[str]:
    """Yields a SQLAlchemy URL of a fresh, empty database; removes everything after.

    ``server_options`` are extra ``-c name=value`` settings; ``prepare`` may put files
    (e.g. a TLS certificate) in the cluster's directory before it starts.
    """
    root = Path(tempfile.mkdtemp(prefix="sasdesk-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    if prepare is not None:
        prepare(root)
    log = root / "log"
    subprocess.run(
        _as_postgres(
            [
                _bin("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-o",
                f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off {server_options}",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(
                _as_postgres(
                    [
                        _bin("createdb"),
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "-U",
                        "postgres",
                        "sasdesk",
                    ]
                ),
                capture_output=True,
            )
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"createdb failed: {done.stderr!r}")
            time.sleep(0.2)
        yield f"postgresql://postgres@127.0.0.1:{port}/sasdesk"
    finally:
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
