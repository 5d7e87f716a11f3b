"""Uploads past a few MiB wait on disk, whole and in order (the national RPPS zip)."""

from __future__ import annotations

import pytest

from app.db.types import utcnow
from app.directory.desk_import import SPOOL_BYTES, Uploads
from app.directory.protocol import CHUNK_BYTES
from app.domain.rules import FlowError


def test_a_large_upload_is_spooled_and_comes_back_whole() -> None:
    uploads = Uploads()
    at = utcnow()
    chunks = [bytes([i % 251]) * CHUNK_BYTES for i in range(SPOOL_BYTES // CHUNK_BYTES + 8)]
    for seq, chunk in enumerate(chunks):
        uploads.add(1, "national-zip", seq, chunk, at)
    assert uploads.held_bytes == len(chunks) * CHUNK_BYTES > SPOOL_BYTES
    with uploads.take(1, "national-zip", at) as spool:
        # On disk, not in the hub's memory: an in-memory spool has no file name (raises).
        assert isinstance(spool.name, int | str)
        assert spool.read() == b"".join(chunks)
    assert uploads.held_bytes == 0
    with pytest.raises(FlowError) as gone:
        uploads.take(1, "national-zip", at)
    assert gone.value.code == "not_found"
