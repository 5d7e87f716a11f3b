"""Where things happened: communes, sectors (CPTS territories), practices, slots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Commune
from app.directory.models import Effecteur, Practice, Slot, Structure

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


@dataclass(frozen=True)
class SlotRow:
    slot_id: int
    effecteur_id: int
    start: datetime
    capacity: int
    booked: int
    sector: str
    insee: str


def published_slots(
    session: Session, t: Territory, start: datetime, end: datetime
) -> Iterable[SlotRow]:
    """Places published for the SAS in [start, end): cancelled slots are not offered."""
    q = (
        select(
            Slot.id,
            Slot.effecteur_id,
            Slot.start,
            Slot.capacity,
            Slot.booked,
            Practice.commune_insee,
        )
        .outerjoin(Practice, Slot.practice_id == Practice.id)
        .where(Slot.start >= start, Slot.start < end, Slot.status != "cancelled")
    )
    for sid, eff, at, capacity, booked, insee in session.execute(q):
        insee = insee or t.practice_of_effecteur.get(eff, "")
        t.practice_of_slot[sid] = insee
        sector = t.sector_of(insee) if insee else (t.structure_sector.get(eff) or "HORS")
        yield SlotRow(sid, eff, at, capacity, booked, sector, insee)
