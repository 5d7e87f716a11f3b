"""Run the reference Kamailio configuration as a child process (tests, bench).

The configuration is copied into a private directory next to a generated
``sasdesk-users.cfg`` (desks, passwords, groups, outbound gateway), and Kamailio runs
in the foreground (``-DD -E``) on 127.0.0.1 at a free port, until :meth:`stop`.
"""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE_CFG = Path(__file__).with_name("kamailio.cfg")
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_udp_port(host: str = "127.0.0.1", span: int = 1) -> int:
    """A free UDP port (and the ``span - 1`` after it) for a peer to bind later.

    Taken below the kernel's ephemeral range: a port the OS hands out for "bind to 0"
    (every RTP socket of the desks) cannot be given away between our check and the
    peer's bind. Falls back to an OS-chosen port."""
    low, _high = _ephemeral_range()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(20001, low - span))
        socks = []
        try:
            for p in range(port, port + span):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((host, p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A free TCP port for a peer to listen on later (below the ephemeral range, as
    :func:`free_udp_port`, so no outgoing connection takes it meanwhile)."""
    low, _high = _ephemeral_range()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(20001, low - 1))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def peer_process_setup() -> None:
    """In the child before exec: own process group, and end with the process that
    started it (Linux PR_SET_PDEATHSIG), so no peer outlives a killed test run."""
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _quote(value: str) -> str:
    if any(c in value for c in '"\\\r\n'):
        raise ValueError(f"unsupported character in {value!r}")
    return f'"{value}"'


@dataclass
class Desk:
    user: str
    password: str
    group: str = "n1"  # n1, n2-amu, n2-snp, or "" for none


@dataclass
class KamailioRoom:
    desks: list[Desk] = field(default_factory=list)
    gateway: str = ""  # "host:port" receiving outgoing calls, or ""
    max_expires: int = 3600
    host: str = "127.0.0.1"
    port: int = 0
    domain: str = "sas.local"
    # SIP over TLS too: (certificate, key) PEM files of the proxy; tls_port 0: a free one
    tls: tuple[Path, Path] | None = None
    tls_port: int = 0

    def __post_init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="sasdesk-kamailio-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: list[str] = []
        if not self.port:
            self.port = free_udp_port(self.host)
        if self.tls and not self.tls_port:
            self.tls_port = free_tcp_port(self.host)

    @property
    def log(self) -> str:
        return "".join(self._log)

    def render(self) -> Path:
        """Write the configuration and its users file; return the main file."""
        cfg = self._dir / "kamailio.cfg"
        shutil.copy(REFERENCE_CFG, cfg)
        lines = []
        for desk in self.desks:
            lines.append(f"$sht(users=>{desk.user}) = {_quote(desk.password)};")
            if desk.group:
                lines.append(f"$sht(groups=>{desk.user}) = {_quote(desk.group)};")
        if self.gateway:
            lines.append(f"$sht(cfg=>gateway) = {_quote('sip:' + self.gateway)};")
        (self._dir / "sasdesk-users.cfg").write_text("\n".join(lines) + "\n")
        return cfg

    def command(self) -> list[str]:
        tls: list[str] = []
        if self.tls:
            cert, key = self.tls
            tls = [
                "-l",
                f"tls:{self.host}:{self.tls_port}",
                "-A",
                "WITH_TLS",
                "-A",
                f"TLS_CERT={_quote(str(cert))}",
                "-A",
                f"TLS_KEY={_quote(str(key))}",
            ]
        return [
            KAMAILIO,
            "-DD",
            "-E",
            "-f",
            str(self._dir / "kamailio.cfg"),
            "-l",
            f"udp:{self.host}:{self.port}",
            "-P",
            str(self._dir / "kamailio.pid"),
            "-Y",
            str(self._dir),
            "-m",
            "64",
            "-M",
            "8",
            "-A",
            f"MAX_EXPIRES={int(self.max_expires)}",
            "-A",
            f'SAS_DOMAIN="{self.domain}"',
            *tls,
        ]

    def start(self, timeout: float = 10.0) -> None:
        self.render()
        check = subprocess.run(
            [*self.command(), "-c"], capture_output=True, text=True, timeout=timeout
        )
        if check.returncode != 0:
            raise RuntimeError(f"kamailio.cfg rejected:\n{check.stderr[-3000:]}")
        self._log.clear()
        # its own process group: Kamailio forks workers, and a worker whose main
        # process died ignores SIGTERM; stop() ends the whole group, and only it
        self._proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self._dir,
            preexec_fn=peer_process_setup,  # noqa: PLW1509 - no threads forked here
        )
        threading.Thread(target=self._drain, daemon=True, name="kamailio-log").start()
        self._wait_ready(timeout)

    def _drain(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        for raw in proc.stderr:
            self._log.append(raw.decode("utf8", "replace"))
            if len(self._log) > 5000:
                del self._log[:1000]

    def _wait_ready(self, timeout: float) -> None:
        """Ready when it answers an OPTIONS to itself."""
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.host, 0))
            s.settimeout(0.2)
            lport = s.getsockname()[1]
            n = 0
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    raise RuntimeError(f"kamailio exited:\n{self.log[-3000:]}")
                n += 1
                msg = (
                    f"OPTIONS sip:{self.host}:{self.port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP {self.host}:{lport};branch=z9hG4bKready{n}\r\n"
                    f"From: <sip:probe@{self.host}>;tag=p{n}\r\n"
                    f"To: <sip:{self.host}:{self.port}>\r\n"
                    f"Call-ID: ready-{n}@{self.host}\r\nCSeq: {n} OPTIONS\r\n"
                    "Max-Forwards: 5\r\nContent-Length: 0\r\n\r\n"
                )
                s.sendto(msg.encode(), (self.host, self.port))
                try:
                    data = s.recv(4096)
                except OSError:
                    continue
                if data.startswith(b"SIP/2.0 200"):
                    return
        raise RuntimeError(f"kamailio not ready after {timeout}s:\n{self.log[-3000:]}")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        group = proc.pid  # setsid: the group id is the main process id
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        try:  # workers left behind, if any
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """kill -9 the proxy and its workers (fault injection: the soak bench)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> KamailioRoom:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
