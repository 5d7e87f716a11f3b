"""``sasdesk backup`` while the hub writes, ``sasdesk restore`` into a fresh database:
every dossier the hub acknowledged before the backup began is there (and closed if its
close was acknowledged); a corrupt, truncated or newer-schema backup is refused with
nothing changed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.models import Dossier
from tests import command
from tests.backup.load import ROOT, Acks, hub_process, under_load


def sasdesk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return command.sasdesk(
        *args, timeout=timeout, env={"SASDESK_CONFIG": "", "PATH": "/usr/bin:/bin"}
    )


async def backup_during_load(url: str, out: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "backup",
        "--db",
        url,
        "--out",
        str(out),
        "--json",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()
    return started, json.loads(stdout)


def states(url: str) -> dict[int, tuple[str, Any]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Dossier.id, Dossier.status, Dossier.closed_at))
        found = {int(i): (str(s), c) for i, s, c in rows}
    engine.dispose()
    return found


def check_restored(acks: Acks, started: float, restored_url: str) -> dict[str, int]:
    before = {d for d, at in acks.created.items() if at < started}
    closed_before = {d for d, at in acks.closed.items() if at < started}
    found = states(restored_url)
    assert before, "no dossier was acknowledged before the backup: the test proves nothing"
    missing = sorted(before - set(found))
    assert not missing, f"acknowledged dossiers missing after restore: {missing[:10]}"
    not_closed = sorted(d for d in closed_before if found[d][1] is None)
    assert not not_closed, f"acknowledged closes lost: {not_closed[:10]}"
    assert len(acks.created) > len(before), "the hub did not write during the backup"
    return {"acknowledged_before": len(before), "restored": len(found)}


def test_sqlite_backup_while_the_flow_bench_writes_restores_every_acknowledged_dossier(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    out = tmp_path / "sauvegarde.tar"
    acks = Acks()
    with hub_process(url, 10) as (ws, roles):
        started, made = asyncio.run(
            under_load(
                ws,
                roles,
                lambda: backup_during_load(url, out),
                warmup=2.0,
                max_dossiers=600,
                acks=acks,
            )
        )
    assert made["dialect"] == "sqlite" and made["bytes"] == out.stat().st_size
    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    done = sasdesk("restore", str(out), "--db", restored_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema_revision"] == made["schema_revision"]
    check_restored(acks, started, restored_url)
    upgrade(make_engine(restored_url))  # the hub starts on it: schema known, nothing to do
    again = sasdesk("restore", str(out), "--db", restored_url)
    assert again.returncode == 1 and "existe déjà" in again.stderr and "--replace" in again.stderr


def small_backup(tmp_path: Path, *, store: Path | None = None) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 'small.sqlite3'}"
    upgrade(make_engine(url))
    out = tmp_path / "small.tar"
    args = ["backup", "--db", url, "--out", str(out)]
    if store is not None:
        config = tmp_path / "hub.toml"
        config.write_text(f'[enregistrements]\ndossier = "{store}"\n')
        args += ["--config", str(config)]
    made = sasdesk(*args)
    assert made.returncode == 0, made.stderr
    return out, url


def test_a_corrupt_or_truncated_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    out, _ = small_backup(tmp_path)
    target = tmp_path / "target.sqlite3"
    target.write_bytes(b"the room's database")
    raw = bytearray(out.read_bytes())
    with tarfile.open(out) as tar:
        member = tar.getmember("database.sqlite3")
    raw[member.offset_data + 5000] ^= 0xFF  # one bit rot inside the database member
    corrupt = tmp_path / "corrupt.tar"
    corrupt.write_bytes(bytes(raw))
    refused = sasdesk("restore", str(corrupt), "--db", f"sqlite:///{target}", "--replace")
    assert refused.returncode == 1
    assert "restauration refusée, rien n'a été modifié" in refused.stderr
    assert "sauvegarde corrompue : database.sqlite3 a changé" in refused.stderr
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(out.read_bytes()[: member.offset_data + 1000])
    refused = sasdesk("restore", str(truncated), "--db", f"sqlite:///{target}", "--replace")
    assert refused.returncode == 1 and "illisible ou tronquée" in refused.stderr
    assert target.read_bytes() == b"the room's database"


def test_a_backup_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    out = tmp_path / "newer.tar"
    assert sasdesk("backup", "--db", url, "--out", str(out)).returncode == 0
    refused = sasdesk("restore", str(out), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert refused.returncode == 1
    assert "au schéma « 9999_future », inconnu de sasdesk" in refused.stderr
    assert not (tmp_path / "x.sqlite3").exists()


def test_the_recordings_store_travels_with_the_backup(tmp_path: Path) -> None:
    store = tmp_path / "rec"
    (store / "2026" / "11").mkdir(parents=True)
    (store / "2026" / "11" / "call-1.wav").write_bytes(b"RIFF" + bytes(4000))
    out, _ = small_backup(tmp_path, store=store)
    with tarfile.open(out) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None, "the backup has a manifest"
        manifest = json.loads(member.read())
    assert [m["name"] for m in manifest["members"]] == [
        "database.sqlite3",
        "recordings/2026/11/call-1.wav",
    ]
    assert all(len(m["sha256"]) == 64 for m in manifest["members"])
    new_store = tmp_path / "restored-rec"
    config = tmp_path / "restored.toml"
    config.write_text(
        f'[base]\nurl = "sqlite:///{tmp_path / "r.sqlite3"}"\n'
        f'[enregistrements]\ndossier = "{new_store}"\n'
    )
    done = sasdesk("restore", str(out), "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["recordings_restored"] == 1
    assert (new_store / "2026" / "11" / "call-1.wav").read_bytes() == b"RIFF" + bytes(4000)
