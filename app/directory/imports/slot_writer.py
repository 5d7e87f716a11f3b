"""Where every slot import ends: rows checked, inserted in bulk, updated by reference.

The CSV and iCalendar readers (``slots.py``) and the FHIR Bundle reader (``fhir.py``)
all write through ``SlotWriter``: a slot already imported from the same source (same
reference) is updated, not doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.directory.imports.common import ImportReport
from app.directory.models import Effecteur, Practice, Slot, Structure, bump_revision
from app.directory.query import fold


@dataclass
class NewSlot:
    rpps: str
    start: datetime
    end: datetime
    consultation_type: str = "cabinet"
    capacity: int = 1
    visibility: str = "SNP"
    ref: str | None = None
    comment: str = ""
    structure_id: int | None = None  # the CPTS whose desks see a CPTS slot


class SlotWriter:
    def __init__(self, s: Session, source: str, report: ImportReport):
        self.s = s
        self.source = source
        self.report = report
        self.rev = bump_revision(s)
        self.doctors = {
            rpps: (eid, pid)
            for rpps, eid, pid in s.execute(
                select(Effecteur.rpps, Effecteur.id, Practice.id)
                .join(Practice, Practice.effecteur_id == Effecteur.id, isouter=True)
                .order_by(Practice.id.desc())
            )
        }
        self.existing = {
            ref: sid
            for ref, sid in s.execute(
                select(Slot.source_ref, Slot.id).where(
                    Slot.source == source, Slot.source_ref.is_not(None)
                )
            )
        }
        self.batch: list[dict[str, Any]] = []
        self.refs_in_file: set[str] = set()
        rows = s.execute(select(Structure.id, Structure.name, Structure.national_id)).all()
        self.structures = {fold(name): sid for sid, name, _ in rows}
        #: The structures the ROR identified (FINESS or ROR id): how a FHIR slot's CPTS
        #: Organization is matched first.
        self.structures_by_id = {nid: sid for sid, _, nid in rows if nid}

    def add(self, where: str, x: NewSlot) -> bool:
        doctor = self.doctors.get(x.rpps)
        if doctor is None:
            self.report.reject(
                where, f"RPPS {x.rpps} inconnu de l'annuaire : importez d'abord l'effecteur"
            )
            return False
        if x.end <= x.start:
            self.report.reject(where, "la fin précède le début")
            return False
        if x.end - x.start > timedelta(hours=14):
            self.report.reject(where, "créneau de plus de 14 h")
            return False
        if not 1 <= x.capacity <= 50:
            self.report.reject(where, f"capacité {x.capacity} hors de 1 à 50")
            return False
        if x.ref is not None:
            if x.ref in self.refs_in_file:
                self.report.reject(where, f"référence {x.ref} en double dans le fichier")
                return False
            self.refs_in_file.add(x.ref)
        values = dict(
            effecteur_id=doctor[0],
            practice_id=doctor[1],
            start=x.start,
            end=x.end,
            consultation_type=x.consultation_type,
            capacity=x.capacity,
            is_range=x.capacity > 1,
            visibility=x.visibility,
            source=self.source,
            source_ref=x.ref,
            comment=x.comment,
            structure_id=x.structure_id,
            rev=self.rev,
        )
        known = self.existing.get(x.ref) if x.ref is not None else None
        if known is not None:
            slot = self.s.get(Slot, known)
            assert slot is not None
            if slot.booked > x.capacity:
                self.report.reject(
                    where,
                    f"{slot.booked} patients déjà réservés : capacité {x.capacity} trop petite",
                )
                return False
            if slot.booked and (slot.start, slot.end) != (x.start, x.end):
                self.report.reject(where, "créneau déjà réservé : horaire non modifiable")
                return False
            for k, v in values.items():
                setattr(slot, k, v)
            slot.status = "open"
            self.report.updated += 1
        else:
            self.batch.append({**values, "booked": 0, "status": "open"})
            self.report.created += 1
            if len(self.batch) >= 5000:
                self.flush()
        self.report.accepted += 1
        return True

    def flush(self) -> None:
        if self.batch:
            self.s.execute(insert(Slot), self.batch)
            self.batch = []
