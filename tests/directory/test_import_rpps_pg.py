"""The national import on PostgreSQL: the bulk statements, RETURNING ids, the
deactivation count, and the ORM's own inserts afterwards (the sequence untouched)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.engine import DirectoryIndex
from app.directory.imports.rpps import import_rpps
from app.directory.models import Effecteur
from app.directory.query import TIER_MT, SearchQuery
from tests.directory.rpps_files import at, person, write

pytestmark = pytest.mark.peers

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_rpps_import_on_postgresql(pg_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    place = at("17300", "17000", "La Rochelle", "R1", "DU PALAIS")
    rows = [person(f"1{i:010d}", f"NOM{i}", "Anne", **place) for i in range(5000)]
    report = import_rpps(pg_sessions, write(tmp_path / "a.txt", rows), now=NOW)
    assert report.committed and report.created == 5000
    report = import_rpps(pg_sessions, write(tmp_path / "b.txt", rows[:4000]), now=NOW)
    assert (report.created, report.updated, report.deactivated) == (0, 0, 1000)
    with pg_sessions.begin() as s:
        s.add(Effecteur(rpps="19999999999", last_name="Sas"))  # the id sequence still works
    with pg_sessions() as s:
        by_rpps = {e.rpps: e for e in s.scalars(select(Effecteur)).unique()}
        assert len(by_rpps) == 5001 and not by_rpps["10000004999"].active
        assert by_rpps["10000000007"].practices[0].site_ref == "R1"
    index = DirectoryIndex()
    with pg_sessions() as s:
        index.sync(s, NOW)
    q = SearchQuery(commune_insee="17300", treating_doctor="10000000007")
    found = index.search(q, NOW).doctors
    assert [(d.effecteur_id, d.tier) for d in found[:1]] == [
        (by_rpps["10000000007"].id, TIER_MT)]  # fmt: skip
