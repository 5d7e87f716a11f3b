"""The benchmark's synthetic month speaks the hub's event language, and is counted."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.bench.report import MonthWriter, live_latency
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Event
from app.stats.calendar import Period
from app.stats.report import build_report
from tests.stats.room import Room

JUNE = Period.month(2023, 6)


def shapes(sessions: sessionmaker[Session]) -> dict[str, set[tuple[str, ...]]]:
    """Per event type: the payload keys (one level into ``booking``) and the ids set."""
    out: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    with sessions() as s:
        for e in s.scalars(select(Event)):
            keys = sorted(e.data) + [f"booking.{k}" for k in sorted(e.data.get("booking") or {})]
            ids = [n for n in ("dossier_id", "task_id", "call_id") if getattr(e, n) is not None]
            out[e.type].add(tuple(keys + ids))
    return out


def test_the_bench_month_has_the_shapes_the_hub_writes(room: Room, tmp_path: Path) -> None:
    doctor = room.doctor("17300")
    free = room.slots(doctor, room.clock.now.replace(hour=16), 3)
    for outcome in ("RDV_CRENEAU", "RDV_HORS_DISPO", "RDV_MT", "SANS_SOLUTION"):
        d, task = room.snp_task()
        room.close_task(
            task,
            outcome,
            dossier=d,
            slot=free.pop() if outcome == "RDV_CRENEAU" else None,
            beyond=doctor if outcome == "RDV_HORS_DISPO" else None,
        )
    moved = room.dossier(priority="P2")
    room.send("mrl", "dossier.take", dossier_id=moved)
    room.send("mrl", "dossier.move_track", dossier_id=moved, track="AMU")
    room.send("amu", "dossier.take", dossier_id=moved)
    room.send(
        "amu",
        "dossier.decide",
        dossier_id=moved,
        decision="INTER",
        care_level="R1",
        filiere="AMU",
        means="SMUR",
    )
    room.send("amu", "dossier.close", dossier_id=moved, reason="SMUR engagé")
    ref = room.ring("15")
    room.hang_up(ref, "n1", "caller_gave_up")
    real = shapes(room.sessions)

    engine = make_engine(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    writer = MonthWriter(sessions, JUNE, seed=3)
    writer.setup()
    writer.write(400)
    # The facts the report reads were folded from the bench's log, as the backfill does.
    assert writer.facts["dossiers"] == 400 and writer.facts["calls"] == 400 + 400 // 25
    assert writer.facts["tasks"] == len(writer.tasks) > 0
    synthetic = shapes(sessions)
    for type_, seen in synthetic.items():
        assert type_ in real, f"the hub never writes {type_}"
        assert seen <= real[type_], f"{type_}: bench {seen - real[type_]} vs hub {real[type_]}"
    with sessions() as s:
        report = build_report(s, JUNE)
    assert report.dossiers.total == 400
    assert report.calls.offered == 400 + 400 // 25 and report.calls.abandoned == 400 // 25
    assert report.monthly.total.values["dossiers_osnp"] == len(writer.tasks)
    engine.dispose()


def test_the_live_latency_bench_feeds_real_hub_events() -> None:
    result = live_latency(seconds=1.0, rate=40)
    assert result["events"] > 20
    assert 0 < result["update_latency_ms"]["p50"] <= result["update_latency_ms"]["p99"]
