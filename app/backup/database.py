"""Copy a live database to a file and back.

SQLite: the online backup API copies a consistent snapshot while the hub keeps
writing (WAL: the reader does not block the writer). PostgreSQL: ``pg_dump -Fc`` (one
consistent snapshot by MVCC) and ``pg_restore``; the password, if any, goes to the
tools through PGPASSWORD, never on their command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from app.backup.manifest import BackupError


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("base SQLite en mémoire : rien à sauvegarder")
    return Path(url.database)


def dump_sqlite(url: URL, out: Path) -> None:
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"base introuvable : {source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(out)
    try:
        source.backup(target)  # all pages in one step: one consistent snapshot
    except sqlite3.Error as exc:
        raise BackupError(f"copie de la base SQLite impossible : {exc}") from None
    finally:
        target.close()
        source.close()


def check_sqlite(path: Path) -> None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"la base de la sauvegarde est illisible ({exc})") from None
    finally:
        db.close()
    if verdict != "ok":
        raise BackupError(f"la base de la sauvegarde est abîmée ({verdict})")


def restore_sqlite(dump: Path, url: URL, *, replace: bool) -> None:
    target = sqlite_path(url)
    if target.exists() and not replace:
        raise BackupError(
            f"{target} existe déjà : arrêtez le hub et ajoutez --replace pour l'écraser"
        )
    check_sqlite(dump)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".restauration")
    shutil.copyfile(dump, staging)
    for suffix in ("-wal", "-shm"):  # the old journal must not be replayed on the new file
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(staging, target)


def pg_tool(name: str) -> str:
    """The newest installed client tool (pg_dump must not be older than the server)."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(f"{name} introuvable : installez le paquet postgresql-client")
    return on_path


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """(connection URI without password, environment with PGPASSWORD)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise BackupError(f"{what} a échoué : {reason[-1] if reason else done.returncode}")


def dump_postgres(url: URL, out: Path) -> None:
    uri, env = _libpq(url)
    _run(
        [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(out), "--dbname", uri],
        env,
        "pg_dump",
    )


def check_postgres_dump(dump: Path) -> None:
    _run(
        [pg_tool("pg_restore"), "--list", str(dump)],
        dict(os.environ),
        "la lecture de la sauvegarde PostgreSQL (pg_restore --list)",
    )


def restore_postgres(dump: Path, url: URL) -> None:
    check_postgres_dump(dump)
    uri, env = _libpq(url)
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            uri,
            str(dump),
        ],
        env,
        "pg_restore",
    )


def parse(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(f"base « {parsed.get_backend_name()} » non prise en charge")
    return parsed
