"""PostgreSQL URLs carry libpq's sslmode (and its certificate files) to the server."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db.engine import make_engine
from tests.certs import Authority
from tests.command import sasdesk
from tests.pg import postgres_cluster

pytestmark = pytest.mark.peers


def uses_tls(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            )
    finally:
        engine.dispose()


def hub_command(db: str) -> subprocess.CompletedProcess[str]:
    return sasdesk("hub", "--db", db, "--port", "0")


def test_the_password_reaches_the_driver() -> None:
    # SQLAlchemy 2 prints passwords as "***": the engine must get the URL object.
    engine = make_engine("postgresql://sas:s3cret@127.0.0.1:1/x?sslmode=require")
    assert engine.url.password == "s3cret" and engine.url.query["sslmode"] == "require"
    engine.dispose()


def test_sslmode_on_a_server_without_tls(postgres_server: str) -> None:
    assert uses_tls(f"{postgres_server}?sslmode=disable") is False
    assert uses_tls(f"{postgres_server}?sslmode=prefer") is False
    out = hub_command(f"{postgres_server}?sslmode=require")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "n'accepte pas les connexions chiffrées alors que l'URL l'exige" in out.stderr
    out = hub_command(f"{postgres_server}?sslmode=sometimes")
    assert out.returncode == 1 and "valeur de sslmode inconnue" in out.stderr


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Authority]]:
    ca = Authority(tmp_path_factory.mktemp("pg-ca"), "CA PostgreSQL de test")
    issued = ca.issue("server")

    def install(root: Path) -> None:
        for name, source in (("server.crt", issued.cert), ("server.key", issued.key)):
            shutil.copy(source, root / name)
            os.chmod(root / name, 0o600)
            if os.geteuid() == 0:
                shutil.chown(root / name, "postgres", "postgres")

    # Relative paths are read from the data directory: ../ is the cluster's own root.
    with postgres_cluster(
        "-c ssl=on -c ssl_cert_file=../server.crt -c ssl_key_file=../server.key", install
    ) as url:
        yield url, ca


def test_sslmode_require_and_verify_full_on_a_tls_server(
    tls_postgres: tuple[str, Authority], tmp_path: Path
) -> None:
    url, ca = tls_postgres
    assert uses_tls(f"{url}?sslmode=require") is True
    assert uses_tls(f"{url}?sslmode=verify-full&sslrootcert={ca.file}") is True
    other = Authority(tmp_path, "Autre CA")
    out = hub_command(f"{url}?sslmode=verify-full&sslrootcert={other.file}")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "n'est pas reconnu par sslrootcert" in out.stderr


async def test_a_hub_on_verify_full_keeps_every_connection_encrypted(
    tls_postgres: tuple[str, Authority], password_hash: str
) -> None:
    from app.client.hub_client import HubClient
    from app.room import Hub
    from tests.conftest import PASSWORD
    from tests.pg import fresh_schema

    base, ca = tls_postgres
    url = f"{base}?sslmode=verify-full&sslrootcert={ca.file}"
    fresh_schema(url, password_hash)
    hub = Hub(url, "127.0.0.1", 0)
    await hub.start()  # its pool and its LISTEN connection (other hubs' events)
    try:
        client = HubClient(hub.url, reconnect=False)
        await client.connect()
        await client.login("n1", PASSWORD)
        engine = make_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.query, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
                    "WHERE a.datname = current_database() AND a.backend_type = 'client backend'"
                )
            ).all()
        engine.dispose()
        assert any("LISTEN" in q for q, _ssl in rows)  # the fanout's connection is there
        assert len(rows) >= 2 and all(ssl for _q, ssl in rows), rows
        await client.close()
    finally:
        await hub.stop()
