"""``sasdesk hub check`` on a good and broken configurations, a hub started from its
file as a subprocess with a client connected, and a database from a newer version
refused (no downgrade)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import app
from app.client.hub_client import HubClient
from app.db.engine import make_engine
from app.db.migrate import SchemaTooNew, head_revision, schema_state, upgrade
from tests.certs import Authority
from tests.command import sasdesk

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(
    tmp_path: Path,
    *,
    db: str | None = None,
    cert_days: tuple[int, int] = (-1, 365),
    port: int = 8765,
    extra: str = "",
) -> Path:
    issued = Authority(tmp_path / f"ca{cert_days}").issue(
        "hub", valid=(timedelta(days=cert_days[0]), timedelta(days=cert_days[1]))
    )
    cert, key = issued.cert, issued.key
    (tmp_path / "rec").mkdir(exist_ok=True)
    path = tmp_path / "hub.toml"
    url = db or f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    path.write_text(
        f"""[base]
url = "{url}"
[ecoute]
port = {port}
[tls]
certificat = "{cert}"
cle = "{key}"
[enregistrements]
dossier = "rec"
{extra}""",
        encoding="utf-8",
    )
    return path


def checks(out: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(out.stdout)["checks"]}


def test_a_good_configuration_passes_every_check(tmp_path: Path) -> None:
    out = sasdesk("hub", "check", "--config", str(config(tmp_path)), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    found = checks(out)
    assert set(found) == {
        "configuration",
        "base de données",
        "schéma",
        "certificat",
        "enregistrements",
    }
    assert all(c["ok"] for c in found.values())
    assert "base vide" in str(found["schéma"]["detail"])
    assert "encore 364 jours" in str(found["certificat"]["detail"])
    human = sasdesk("hub", "check", "--config", str(config(tmp_path)))
    assert human.returncode == 0 and human.stdout.strip().endswith("configuration prête")


def test_an_unknown_key_stops_check_and_hub_with_file_line_and_key(tmp_path: Path) -> None:
    port = free_port()
    path = config(tmp_path, port=port, extra="[objectifs]\nplafond_snp = 20\n")
    for args in (("hub", "check"), ("hub",)):
        out = sasdesk(*args, "--config", str(path))
        assert out.returncode == 2
        assert f"{path}, ligne 11 : clé inconnue « plafond_snp » dans [objectifs]" in out.stderr
        assert "le hub ne démarre pas" in out.stderr and "Traceback" not in out.stderr
    with socket.socket() as s:  # nothing was left listening
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_an_unreachable_database_fails_the_check(tmp_path: Path) -> None:
    path = config(tmp_path, db="postgresql://nobody@127.0.0.1:1/x?sslmode=disable")
    out = sasdesk("hub", "check", "--config", str(path), "--json")
    assert out.returncode == 1
    db = checks(out)["base de données"]
    assert db["ok"] is False and "injoignable" in str(db["detail"])


def test_an_expired_certificate_fails_the_check(tmp_path: Path) -> None:
    out = sasdesk("hub", "check", "--config", str(config(tmp_path, cert_days=(-400, -5))))
    assert out.returncode == 1
    assert "ERREUR certificat" in out.stdout and "expiré" in out.stdout
    soon = sasdesk("hub", "check", "--config", str(config(tmp_path, cert_days=(-300, 10))))
    assert soon.returncode == 1 and "expire dans 9 jours" in soon.stdout


def stamp_newer(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    stamp_newer(url)
    engine = make_engine(url)
    with pytest.raises(SchemaTooNew) as caught:
        upgrade(engine)
    assert "« 9999_future », inconnu de sasdesk" in str(caught.value)
    assert "Retour en arrière refusé" in str(caught.value)
    assert schema_state(engine).current == "9999_future"  # nothing was changed
    engine.dispose()
    path = config(tmp_path)
    out = sasdesk("hub", "check", "--config", str(path))
    assert out.returncode == 1 and "ERREUR schéma : révision « 9999_future » inconnue" in out.stdout
    started = sasdesk("hub", "--config", str(path), "--port", "0")
    assert started.returncode == 1
    assert "inconnu de sasdesk" in started.stderr and "Traceback" not in started.stderr


def wait_port(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("le hub n'écoute pas")


def test_the_hub_starts_from_its_file_and_a_flag_overrides_it(tmp_path: Path) -> None:
    file_port, flag_port = free_port(), free_port()
    path = config(tmp_path, port=file_port)
    path.write_text(
        path.read_text()
        .replace("[tls]\n", "#[tls]\n")
        .replace("certificat", "#c")
        .replace("cle =", "#k =")
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "hub", "--config", str(path), "--demo"],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_port(file_port, proc)

        async def visit(port: int) -> dict[str, object]:
            client = HubClient(f"ws://127.0.0.1:{port}", reconnect=False)
            welcome = await client.connect()
            user = await client.login("arm1", "demo")
            await client.close()
            return {**welcome, "user": user}

        seen = asyncio.run(visit(file_port))
        assert seen["hub"] == app.__version__ and seen["user"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert (tmp_path / "hub.sqlite3").exists()  # the file's database
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "hub", "--config", str(path), "--port", str(flag_port)],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_port(flag_port, proc)
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", file_port)) != 0
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert (
        schema_state(make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}")).current
        == head_revision()
    )


def test_check_reaches_pro_sante_connect_or_says_it_cannot(tmp_path: Path) -> None:
    from app.bench.psc_double import PscDouble

    psc = PscDouble().start()
    secret = tmp_path / "psc-secret"
    secret.write_text(psc.client_secret)
    secret.chmod(0o600)
    extra = (
        f'[psc]\ndecouverte = "{psc.discovery_url}"\n'
        f'identifiant_client = "{psc.client_id}"\nsecret_fichier = "psc-secret"\n'
    )
    try:
        out = sasdesk("hub", "check", "--config", str(config(tmp_path, extra=extra)), "--json")
        found = checks(out)["Pro Santé Connect"]
        assert out.returncode == 0 and found["ok"] is True, out.stdout + out.stderr
        assert psc.issuer in str(found["detail"])
    finally:
        psc.stop()
    out = sasdesk("hub", "check", "--config", str(config(tmp_path, extra=extra)), "--json")
    found = checks(out)["Pro Santé Connect"]
    assert out.returncode == 1 and found["ok"] is False
    assert "injoignable" in str(found["detail"])
