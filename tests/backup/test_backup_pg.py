"""PostgreSQL: ``sasdesk backup`` (pg_dump) while a hub writes, ``sasdesk restore``
(pg_restore) into another database: every acknowledged dossier is there."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.backup.load import Acks, hub_process, under_load
from tests.backup.test_backup import backup_during_load, check_restored, sasdesk

pytestmark = pytest.mark.peers


def new_database(server: str) -> str:
    name = f"bk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        str(make_url(server).set(drivername="postgresql+psycopg")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(server).set(database=name))


def test_postgres_backup_under_load_restores_every_acknowledged_dossier(
    postgres_server: str, tmp_path: Path
) -> None:
    source, target = new_database(postgres_server), new_database(postgres_server)
    out = tmp_path / "pg.tar"
    acks = Acks()
    with hub_process(source, 10) as (ws, roles):
        started, made = asyncio.run(
            under_load(
                ws,
                roles,
                lambda: backup_during_load(source, out),
                warmup=3.0,
                max_dossiers=400,
                acks=acks,
            )
        )
    assert made["dialect"] == "postgresql"
    done = sasdesk("restore", str(out), "--db", target, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema_revision"] == made["schema_revision"]
    check_restored(acks, started, target)
