"""The demo directory: complete, deterministic for a given instant, loaded once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.demo.seed import load_territory
from app.directory.demo import seed_directory_demo
from app.directory.models import Effecteur, Slot, Structure, Unavailability
from tests.directory.conftest import NOW


def snapshot(sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    with sessions() as s:
        rows = s.execute(
            select(
                Effecteur.rpps,
                Slot.start,
                Slot.end,
                Slot.consultation_type,
                Slot.capacity,
                Slot.booked,
                Slot.visibility,
                Slot.source,
            )
            .join(Effecteur, Effecteur.id == Slot.effecteur_id)
            .order_by(Effecteur.rpps, Slot.start, Slot.capacity)
        ).all()
    return [tuple(r) for r in rows]


def test_demo_is_complete_and_deterministic(
    demo_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    territory = load_territory()
    with demo_sessions() as s:
        assert s.scalar(select(func.count(Effecteur.id))) == len(territory["effecteurs"])
        assert s.scalar(select(func.count(Structure.id))) == len(territory["structures"])
        assert s.scalar(select(func.count(Unavailability.id))) == 1
        ranges = s.scalars(select(Slot).where(Slot.capacity == 5)).all()
        assert ranges and all(x.is_range for x in ranges)
        sources = set(s.scalars(select(Slot.source).distinct()))
        assert sources == {"text", "demo"}
        cpts = s.scalar(select(Structure).where(Structure.name == "CPTS La Rochelle"))
        assert cpts is not None and "17300" in cpts.communes
    with demo_sessions.begin() as s:
        assert not seed_directory_demo(s, territory, NOW)  # loaded once
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    upgrade(other)
    again = make_sessionmaker(other)
    with again.begin() as s:
        assert seed_directory_demo(s, territory, NOW)
    assert snapshot(again) == snapshot(demo_sessions)
    other.dispose()
