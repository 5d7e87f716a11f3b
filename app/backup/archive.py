"""One backup file: a tar holding the manifest, its checksum, the database and the
recordings store's files. Restore verifies every checksum and the schema revision
before it changes anything."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import app
from app.backup import database as db
from app.backup.manifest import (
    CHECKSUM,
    MANIFEST,
    RECORDINGS,
    BackupError,
    Manifest,
    sha256_of,
)
from app.config.settings import HubSettings


def _schema_revision(url: str) -> str | None:
    from app.db.engine import make_engine
    from app.db.migrate import schema_state

    engine = make_engine(url)
    try:
        return schema_state(engine).current
    finally:
        engine.dispose()


def store_of(settings: HubSettings) -> Path:
    """The recordings store the hub uses: the configured one, else its default."""
    from app.recordings.store import default_store

    return settings.recordings_store or default_store(settings.db_url)


def make_backup(settings: HubSettings, out: Path) -> dict[str, Any]:
    """Write the backup to ``out`` (atomically: a partial file never has its name)."""
    started = time.perf_counter()
    url = db.parse(settings.db_url)
    dialect = url.get_backend_name()
    manifest = Manifest(
        app.__version__,
        _schema_revision(settings.db_url),
        dialect,
        datetime.now(UTC).isoformat(timespec="seconds"),
        recordings_store=str(store_of(settings)),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partiel")
    with tempfile.TemporaryDirectory(prefix="sasdesk-sauvegarde-") as tmp:
        dump = Path(tmp) / "database"
        if dialect == "sqlite":
            db.dump_sqlite(url, dump)
        else:
            db.dump_postgres(url, dump)
        manifest.add(manifest.database_member, dump)
        recordings = _recordings(store_of(settings))
        for rel, path in recordings:
            manifest.add(RECORDINGS + rel, path)
        raw = manifest.to_bytes()
        (Path(tmp) / MANIFEST).write_bytes(raw)
        (Path(tmp) / CHECKSUM).write_text(hashlib.sha256(raw).hexdigest() + "\n")
        with tarfile.open(partial, "w") as tar:
            tar.add(Path(tmp) / MANIFEST, MANIFEST)
            tar.add(Path(tmp) / CHECKSUM, CHECKSUM)
            tar.add(dump, manifest.database_member)
            for rel, path in recordings:
                tar.add(path, RECORDINGS + rel)
    partial.replace(out)
    return {
        "file": str(out),
        "bytes": out.stat().st_size,
        "sha256": sha256_of(out),
        "seconds": round(time.perf_counter() - started, 3),
        "dialect": dialect,
        "schema_revision": manifest.schema_revision,
        "database_bytes": manifest.members[0].size,
        "recordings": len(recordings),
        "created": manifest.created,
    }


def _recordings(store: Path) -> list[tuple[str, Path]]:
    if not store.is_dir():
        return []
    return [(p.relative_to(store).as_posix(), p) for p in sorted(store.rglob("*")) if p.is_file()]


def read_verified(path: Path, into: Path) -> Manifest:
    """Extract ``path`` into ``into`` checking the manifest's checksum and every member's
    SHA-256; BackupError in French on the first problem."""
    try:
        with tarfile.open(path, "r") as tar:
            names = tar.getnames()
            for needed in (MANIFEST, CHECKSUM):
                if needed not in names:
                    raise BackupError(f"ce n'est pas une sauvegarde sasdesk ({needed} absent)")
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"sauvegarde illisible ou tronquée ({exc})") from None
    raw = (into / MANIFEST).read_bytes()
    expected = (into / CHECKSUM).read_text().strip()
    if hashlib.sha256(raw).hexdigest() != expected:
        raise BackupError(
            "sauvegarde corrompue : le manifeste ne correspond pas à sa somme de contrôle"
        )
    manifest = Manifest.from_bytes(raw)
    for member in manifest.members:
        file = into / member.name
        if not file.is_file():
            raise BackupError(f"sauvegarde incomplète : {member.name} manque")
        found = sha256_of(file)
        if found != member.sha256:
            raise BackupError(
                f"sauvegarde corrompue : {member.name} a changé (SHA-256 "
                f"attendu {member.sha256[:12]}…, trouvé {found[:12]}…)"
            )
    if manifest.database_member not in {m.name for m in manifest.members}:
        raise BackupError("sauvegarde incomplète : pas de base de données")
    return manifest


def restore_backup(path: Path, settings: HubSettings, *, replace: bool = False) -> dict[str, Any]:
    """Restore the database (and the recordings, into the configured store)."""
    started = time.perf_counter()
    url = db.parse(settings.db_url)
    with tempfile.TemporaryDirectory(prefix="sasdesk-restauration-") as tmp:
        manifest = read_verified(path, Path(tmp))
        _refuse_newer(manifest)
        dialect = url.get_backend_name()
        if dialect != manifest.dialect:
            raise BackupError(
                f"sauvegarde d'une base {manifest.dialect}, destination "
                f"{dialect} : restaurez dans une base {manifest.dialect}"
            )
        dump = Path(tmp) / manifest.database_member
        if dialect == "sqlite":
            db.restore_sqlite(dump, url, replace=replace)
        else:
            db.restore_postgres(dump, url)
        restored = 0
        rec = [m for m in manifest.members if m.name.startswith(RECORDINGS)]
        store = store_of(settings)
        if rec:
            for member in rec:
                target = store / member.name[len(RECORDINGS) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(tmp) / member.name, target)
                restored += 1
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
        "dialect": manifest.dialect,
        "schema_revision": manifest.schema_revision,
        "created": manifest.created,
        "recordings_in_backup": len(rec),
        "recordings_restored": restored,
    }


def _refuse_newer(manifest: Manifest) -> None:
    from app.db.migrate import SchemaState, head_revision, known_revisions

    state = SchemaState(manifest.schema_revision, head_revision(), known_revisions())
    if state.too_new:
        raise BackupError(
            f"sauvegarde faite par sasdesk {manifest.sasdesk} au schéma "
            f"« {manifest.schema_revision} », inconnu de sasdesk {app.__version__} "
            f"(dernier connu « {state.head} ») : restaurez-la avec une version "
            "au moins aussi récente"
        )
