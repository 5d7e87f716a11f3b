"""A private RabbitMQ laid out like the Hub Santé, for the tests and the bench.

Debian's ``rabbitmq-server`` started on 127.0.0.1 with random ports (AMQPS listener
only, distribution and epmd ports of its own, a unique node name, every file in a
temporary directory) and a TLS listener that demands a client certificate, logging
clients in by the certificate's common name (EXTERNAL) as the Hub Santé does. The
layout is the Hub Santé's (SAMU-Hub-Sante ``definitions.json``): a topic exchange
``hubsante`` where clients publish with their own client id as routing key, a
``dispatch`` queue behind it, a direct exchange ``distribution`` and per client the
queues ``<clientId>.message``, ``.ack`` and ``.info``. ``Dispatcher`` plays the Hub
Santé's dispatcher: it reads the envelope and forwards to the recipient's queue.

Its certificates are app.throwaway_pki's.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    return (RABBIT_BIN / "rabbitmq-server").exists()


@dataclass
class ClientCert:
    client_id: str
    cert: Path
    key: Path


def _make_pki(where: Path, client_ids: list[str]) -> tuple[Path, Path, Path, dict[str, ClientCert]]:
    """An authority, the broker's server certificate (localhost, 127.0.0.1) and one
    client certificate per client id, its common name (the EXTERNAL login)."""
    from app.throwaway_pki import LOCALHOST, Authority

    authority = Authority(where, name="Hub Sante test CA")
    server = authority.issue("rabbitmq", hosts=LOCALHOST, cn="rabbitmq")
    clients = {}
    for cid in client_ids:
        issued = authority.client(cid, cn=cid)
        clients[cid] = ClientCert(cid, issued.cert, issued.key)
    return authority.file, server.cert, server.key, clients


def definitions(client_ids: list[str]) -> dict[str, Any]:
    """The Hub Santé's exchanges, queues and bindings for these clients."""
    queues = ["dispatch"] + [f"{c}.{k}" for c in client_ids for k in ("message", "ack", "info")]
    users = [*client_ids, "dispatcher"]
    return {
        "vhosts": [{"name": "/"}],
        "users": [
            {
                "name": u,
                "password_hash": "",
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
            for u in users
        ],  # fmt: skip
        "permissions": [
            {"user": u, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"} for u in users
        ],
        "exchanges": [
            {
                "name": "hubsante",
                "vhost": "/",
                "type": "topic",
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            },
            {
                "name": "distribution",
                "vhost": "/",
                "type": "direct",
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            },
        ],  # fmt: skip
        "queues": [
            {"name": q, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}
            for q in queues
        ],
        "bindings": [
            {
                "source": "hubsante",
                "destination": "dispatch",
                "destination_type": "queue",
                "routing_key": "#",
                "vhost": "/",
                "arguments": {},
            }
        ]
        + [
            {
                "source": "distribution",
                "destination": q,
                "destination_type": "queue",
                "routing_key": q,
                "vhost": "/",
                "arguments": {},
            }
            for q in queues
            if q != "dispatch"
        ],  # fmt: skip
    }


@dataclass
class Broker:
    """One private RabbitMQ node; ``start``/``stop`` may be called again (restart)."""

    client_ids: list[str]
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sasdesk-rmq-")))
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.node = f"sasdesk{uuid.uuid4().hex[:10]}@localhost"
        pki = self.base / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        self.ca, cert, key, self.clients = _make_pki(pki, [*self.client_ids, "dispatcher"])
        (self.base / "definitions.json").write_text(json.dumps(definitions(self.client_ids)))
        (self.base / "enabled_plugins").write_text("[rabbitmq_auth_mechanism_ssl].\n")
        (self.base / "rabbitmq.conf").write_text(
            "\n".join(
                [
                    "listeners.tcp = none",
                    f"listeners.ssl.default = 127.0.0.1:{self.port}",
                    f"ssl_options.cacertfile = {self.ca}",
                    f"ssl_options.certfile = {cert}",
                    f"ssl_options.keyfile = {key}",
                    "ssl_options.verify = verify_peer",
                    "ssl_options.fail_if_no_peer_cert = true",
                    "auth_mechanisms.1 = EXTERNAL",
                    "ssl_cert_login_from = common_name",
                    f"load_definitions = {self.base / 'definitions.json'}",
                    "log.console = false",
                    "log.file.level = warning",
                ]
            )
            + "\n"
        )

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HOME=str(self.base),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(self.base / "rabbitmq.pid"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.base / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
        )
        return env

    def url(self, client_id: str) -> str:
        return f"amqps://127.0.0.1:{self.port}/?auth=EXTERNAL"

    def ssl_context(self, client_id: str) -> ssl.SSLContext:
        c = self.clients[client_id]
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(c.cert), str(c.key))
        return context

    def start(self, timeout: float = 90.0) -> None:
        log = (self.base / "server.out").open("ab")
        self.process = subprocess.Popen(
            [str(RABBIT_BIN / "rabbitmq-server")], env=self.env, stdout=log, stderr=log,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited: {self.tail()}")
            if self._tls_ready():
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"rabbitmq-server not ready in {timeout:g} s: {self.tail()}")

    def _tls_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw:
                with self.ssl_context("dispatcher").wrap_socket(raw, server_hostname="127.0.0.1"):
                    return True
        except OSError:
            return False

    def tail(self) -> str:
        out = self.base / "server.out"
        return out.read_text(errors="replace")[-2000:] if out.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        subprocess.run(
            [str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, "stop"], env=self.env,
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        subprocess.run(
            ["epmd", "-port", str(self.epmd_port), "-kill"], env=self.env,
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
        shutil.rmtree(self.base, ignore_errors=True)
