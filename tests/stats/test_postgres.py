"""The same month counted on PostgreSQL gives the same report as on SQLite."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.hub.auth import Principal
from app.stats.calendar import Period
from app.stats.report import build_report
from tests.stats.room import Room

pytestmark = pytest.mark.peers
JUNE = Period.month(2023, 6)


def scenario(room: Room) -> dict[str, Any]:
    room.load_communes()
    room.clock.at(datetime(2023, 6, 1, 21, 50, tzinfo=UTC))  # 23:50 in Paris
    lr, re_ = room.doctor("17300"), room.doctor("17369")
    free = room.slots(re_, datetime(2023, 6, 2, 15, tzinfo=UTC), 5, capacity=5)
    ref = room.ring("116117", desks=("n1", "n1b", "sup"))
    room.clock.tick(33)
    for desk in ("n1", "n1b", "sup"):
        room.hang_up(ref, desk, "caller_gave_up")
    d, task = room.snp_task(insee="17028")
    room.close_task(task, "RDV_CRENEAU", dossier=d, slot=free[0])
    d, task = room.snp_task(insee="17218")
    room.close_task(task, "RDV_HORS_DISPO", dossier=d, beyond=lr)
    d, task = room.snp_task()
    room.send("mrl", "dossier.move_track", dossier_id=d, track="AMU", reason="aggravation")
    d, task = room.snp_task(insee="17369")
    room.close_task(task, "SANS_SOLUTION", reason="DELAI_DEPASSE")
    with room.sessions() as s:
        r = build_report(s, JUNE)
    return {
        "monthly": [(row.kind, row.label, row.values) for row in r.monthly.rows],
        "communes": [asdict(c) for c in r.communes],
        "calls": r.calls.as_dict(),
        "by_hour": {k: v.as_dict() for k, v in r.calls_by_hour.items()},
        "dossiers": r.dossiers.as_dict(),
        "tasks": r.tasks.as_dict(),
        "slots": r.slots,
    }


def test_postgresql_and_sqlite_count_the_same(
    pg_sessions: sessionmaker[Session],
    pg_people: dict[str, Principal],
    sessions: sessionmaker[Session],
    people: dict[str, Principal],
) -> None:
    on_pg = scenario(Room(pg_sessions, pg_people))
    on_sqlite = scenario(Room(sessions, people))
    assert on_pg == on_sqlite
    assert on_pg["calls"]["offered"] == 5 and on_pg["calls"]["abandoned"] == 1
    assert on_pg["dossiers"]["by_track"] == {"AMU": 1, "SNP": 3}
    days = {label: v for kind, label, v in on_pg["monthly"] if kind == "day"}
    # 23:58 in Paris: the first appointment is Thursday's; the next one, Friday's.
    assert days["jeudi 1"]["rdv:RE"] == 1 and days["jeudi 1"]["dossiers_osnp"] == 1
    assert days["vendredi 2"]["slots:RE"] == 5 and days["vendredi 2"]["rdv:LR"] == 1
