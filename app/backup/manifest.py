"""The manifest of a backup: what it holds, from which version and schema, and the
SHA-256 of every member; its own checksum is a member beside it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
MANIFEST = "manifest.json"
CHECKSUM = "manifest.json.sha256"
#: Member names inside the archive.
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
RECORDINGS = "recordings/"


class BackupError(Exception):
    """A backup that cannot be made or restored; the message is for the administrator."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Member:
    name: str
    size: int
    sha256: str


@dataclass
class Manifest:
    sasdesk: str
    schema_revision: str | None
    dialect: str  # "sqlite" | "postgresql"
    created: str  # ISO 8601, UTC
    members: list[Member] = field(default_factory=list)
    #: The recordings store the files came from.
    recordings_store: str | None = None
    format: int = FORMAT

    def add(self, name: str, path: Path) -> None:
        self.members.append(Member(name, path.stat().st_size, sha256_of(path)))

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2).encode("utf-8")

    @property
    def database_member(self) -> str:
        return SQLITE_MEMBER if self.dialect == "sqlite" else PG_MEMBER

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(raw)
            members = [Member(**m) for m in data.pop("members")]
            manifest = cls(**data, members=members)
        except (ValueError, TypeError, KeyError) as exc:
            raise BackupError(f"manifeste illisible ({exc})") from None
        if manifest.format > FORMAT:
            raise BackupError(
                f"format de sauvegarde {manifest.format} inconnu de cette "
                "version (sauvegarde faite par une version plus récente)"
            )
        return manifest
