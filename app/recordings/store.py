"""The hub's recordings store: a directory the hub owns, never a path from a desk.

A recording goes up in chunks into ``.partial/<key>.wav`` (the key: the call's id,
``cb-<attempt id>`` for an outgoing call-back call, ``out-<recording id>`` for a call
placed from the slot search); the part's size on disk
is the upload's progress (a desk that reconnects, to this hub or to another sharing
the store, resumes there). Once the whole file is there and its SHA-256 matches the
one the desk declared, it is moved, atomically, to ``<yyyy>/<mm>/<dd>/<call id>.wav``.
Hubs sharing one PostgreSQL must share the store (same path on every hub).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from sqlalchemy.engine import make_url

from app.db.engine import data_dir


def default_store(db_url: str) -> Path:
    """Beside the SQLite database file; in the data directory otherwise."""
    url = make_url(db_url) if db_url else None
    if (
        url is not None
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
    ):
        db = Path(url.database)
        return db.with_name(f"{db.stem}-recordings")
    return data_dir() / "recordings"


#: A store key: an incoming call's id, an outgoing call-back call's attempt, or the
#: recording row of a call placed from the slot search.
Key = int | str
_KEY = re.compile(r"^(cb-|out-)?[0-9]+$")


def _name(key: Key) -> str:
    """The file name part of a key (never a path: keys come from the hub's own rows)."""
    text = str(int(key)) if isinstance(key, int) else key
    if not _KEY.match(text):
        raise ValueError(f"recording key {key!r}")
    return text


class RecordingStore:
    def __init__(self, root: Path):
        self.root = root
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: Key) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(_name(key), threading.Lock())

    def partial(self, key: Key) -> Path:
        return self.root / ".partial" / f"{_name(key)}.wav"

    def received(self, key: Key) -> int:
        try:
            return self.partial(key).stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, key: Key, offset: int, data: bytes) -> int:
        """Write a chunk at ``offset`` (must be the bytes received so far); new size."""
        part = self.partial(key)
        part.parent.mkdir(parents=True, exist_ok=True)
        with part.open("ab") as f:
            size = f.tell()
            if offset != size:
                raise ValueError(size)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            return size + len(data)

    def discard(self, key: Key) -> None:
        self.partial(key).unlink(missing_ok=True)

    def commit(self, key: Key, day: str) -> str:
        """Move the complete part into the store; returns its name relative to the root."""
        name = f"{day}/{_name(key)}.wav"
        final = self.root / name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.partial(key), final)
        _fsync_dir(final.parent)
        return name

    def path(self, name: str) -> Path:
        """The file of a stored recording (names come from the hub's own rows)."""
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"recording name outside the store: {name!r}")
        return path

    def read(self, name: str, offset: int, length: int) -> bytes:
        with self.path(name).open("rb") as f:
            f.seek(offset)
            return f.read(length)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
