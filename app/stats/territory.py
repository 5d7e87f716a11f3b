"""Where things happened: communes, sectors (CPTS territories), practices, slots."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session

from app.db.models import Commune
from app.directory.models import Effecteur, Practice, Slot, Structure
from app.stats.calendar import local_day

OUTSIDE = "HORS"  # sector key of places outside the territory served


@dataclass(frozen=True)
class Place:
    insee: str
    name: str
    postal_codes: str
    sector: str

    @property
    def department(self) -> str:
        return self.insee[:3] if self.insee[:2] in ("97", "98") else self.insee[:2]


@dataclass
class Territory:
    communes: dict[str, Place] = field(default_factory=dict)
    sectors: list[tuple[str, str]] = field(default_factory=list)  # (code, name), in order
    practice_of_slot: dict[int, str] = field(default_factory=dict)  # slot id → INSEE
    practice_of_effecteur: dict[int, str] = field(default_factory=dict)
    structure_sector: dict[int, str] = field(default_factory=dict)  # effecteur id → sector

    def sector_of(self, insee: str) -> str:
        place = self.communes.get(insee)
        return place.sector if place and place.sector else OUTSIDE

    def sector_name(self, code: str) -> str:
        return dict(self.sectors).get(code, "Hors territoire" if code == OUTSIDE else code)

    def effecteur_place(self, effecteur_id: int, slot_id: int | None = None) -> str:
        """INSEE of the practice: the slot's own, else the doctor's first practice."""
        if slot_id is not None and slot_id in self.practice_of_slot:
            return self.practice_of_slot[slot_id]
        return self.practice_of_effecteur.get(effecteur_id, "")

    def effecteur_sector(self, effecteur_id: int, slot_id: int | None = None) -> str:
        insee = self.effecteur_place(effecteur_id, slot_id)
        if insee:
            return self.sector_of(insee)
        return self.structure_sector.get(effecteur_id) or OUTSIDE


def sector_names(path: Path | None = None) -> dict[str, str]:
    """Sector names of the room's territory file (hub.toml [territoire] fichier), else of
    the demo territory."""
    try:
        from app.demo.seed import TERRITORY
        from app.demo.seed import load_territory as read_file

        return {s["code"]: s["name"] for s in read_file(path or TERRITORY).get("sectors", [])}
    except (OSError, ValueError, KeyError):
        return {}


def default_sector_names() -> dict[str, str]:
    return sector_names()


def load_territory(session: Session, sector_names: dict[str, str] | None = None) -> Territory:
    names = sector_names if sector_names is not None else default_sector_names()
    t = Territory()
    for c in session.scalars(select(Commune)):
        t.communes[c.insee] = Place(c.insee, c.name, c.postal_codes, c.sector)
    used = {p.sector for p in t.communes.values() if p.sector}
    ordered = [code for code in names if code in used] + sorted(used - set(names))
    t.sectors = [(code, names.get(code, code)) for code in ordered]
    for eff_id, insee in session.execute(
        select(Practice.effecteur_id, Practice.commune_insee).order_by(Practice.id.desc())
    ):
        t.practice_of_effecteur[eff_id] = insee  # descending: the first practice wins
    for eff_id, sector in session.execute(
        select(Effecteur.id, Structure.sector).join(
            Structure, Effecteur.structure_id == Structure.id
        )
    ):
        t.structure_sector[eff_id] = sector
    return t


@dataclass
class Places:
    """Places published for the SAS in a period, and where the booked slots are."""

    by_day: dict[tuple[date, str], int] = field(default_factory=dict)  # (Paris day, sector)
    slot_sector: dict[int, str] = field(default_factory=dict)  # booked slot id → sector

    def by_sector(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (_, sector), n in self.by_day.items():
            out[sector] += n
        return out


def published_places(
    session: Session, t: Territory, start: datetime, end: datetime, booked: Any
) -> Places:
    """Places of the slots published in [start, end) (cancelled slots are not offered),
    summed by the database per doctor, practice and UTC hour (a Paris day is whole UTC
    hours); ``booked``: a select of the slot ids the period's bookings hold, whose
    practice and sector are read one by one (``t.practice_of_slot``)."""
    published = and_(Slot.start >= start, Slot.start < end, Slot.status != "cancelled")
    hour = func.substr(cast(Slot.start, String), 1, 13)
    q = (
        select(Slot.effecteur_id, Practice.commune_insee, hour, func.sum(Slot.capacity))
        .outerjoin(Practice, Slot.practice_id == Practice.id)
        .where(published)
        .group_by(Slot.effecteur_id, Practice.commune_insee, hour)
    )
    out = Places()
    days: dict[str, date] = {}
    for eff, insee, utc_hour, capacity in session.execute(q):
        day = days.get(utc_hour)
        if day is None:
            day = days[utc_hour] = local_day(datetime.fromisoformat(f"{utc_hour}:00+00:00"))
        key = (day, _slot_sector(t, eff, insee))
        out.by_day[key] = out.by_day.get(key, 0) + int(capacity)
    q = (
        select(Slot.id, Slot.effecteur_id, Practice.commune_insee)
        .outerjoin(Practice, Slot.practice_id == Practice.id)
        .where(published, Slot.id.in_(booked))
    )
    for sid, eff, insee in session.execute(q):
        t.practice_of_slot[sid] = insee or t.practice_of_effecteur.get(eff, "")
        out.slot_sector[sid] = _slot_sector(t, eff, insee)
    return out


def _slot_sector(t: Territory, effecteur_id: int, insee: str | None) -> str:
    insee = insee or t.practice_of_effecteur.get(effecteur_id, "")
    return t.sector_of(insee) if insee else (t.structure_sector.get(effecteur_id) or OUTSIDE)
