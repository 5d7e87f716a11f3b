"""The slot-search engine: the directory in memory, kept fresh by revision deltas.

Why in memory: a search ranks every doctor in the radius by "has a matching slot"
and "earliest one", which in SQL means reading every slot of the radius for the 72 h
(tens of thousands of rows in a dense department) on every keystroke. Here each
doctor's slots are sorted by start time, so the earliest match is one bisect and a
short scan. ``sync`` reads only the rows whose ``rev`` is newer than the last one
seen (a booking elsewhere costs one small query), so every desk, and every hub
process on a shared PostgreSQL, searches fresh data.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.directory import geo
from app.directory.models import (
    Effecteur,
    Practice,
    Slot,
    Structure,
    Unavailability,
    current_revision,
)
from app.directory.query import (
    TIER_CONFRERE,
    TIER_MT,
    TIER_NONE,
    TIER_OTHER,
    TIER_SAS,
    DoctorHit,
    SearchQuery,
    SearchResult,
    SlotHit,
    beyond_key,
    days_shown,
    doctor_skills,
    fold,
    parse_treating_doctor,
    rank_key,
)
from app.directory.vocab import PARIS
from app.geo import distance_km

#: Slots older than this are not loaded (they can no longer be offered).
PAST_KEPT = timedelta(hours=12)


@dataclass(slots=True)
class _Slot:
    id: int
    effecteur_id: int
    start: datetime
    end: datetime
    ts: float
    end_ts: float
    ctype: str
    capacity: int
    booked: int
    is_range: bool
    visibility: str
    practice_id: int | None

    def hit(self) -> SlotHit:
        return SlotHit(self.id, self.start, self.end, self.ctype, self.capacity, self.booked,
                       self.is_range, self.visibility, self.practice_id)


@dataclass(slots=True)
class _Place:
    id: int
    name: str
    address: str
    commune_insee: str
    commune_name: str
    postal_code: str
    lat: float | None
    lon: float | None
    key: str  # same key, same practice: the MT's confrères


@dataclass
class _Doctor:
    id: int
    rpps: str
    first_name: str
    last_name: str
    name_key: str
    first_key: str
    specialty: str
    sas: bool
    mode: str
    beyond: bool
    agenda_level: str
    agenda_software: str
    skills: frozenset[str]
    skill_labels: list[str]
    conditions: str
    phone_direct: str
    phone_secretary: str
    structure: str
    structure_kind: str
    structure_phone: str
    active: bool
    blob: str
    places: list[_Place] = field(default_factory=list)
    unavail: list[tuple[float, float, datetime, str]] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    slots: list[_Slot] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        main = self.places[0] if self.places else None
        return {
            "rpps": self.rpps, "name": f"Dr {self.first_name} {self.last_name}".strip(),
            "first_name": self.first_name, "last_name": self.last_name,
            "specialty": self.specialty, "sas_participant": self.sas, "mode": self.mode,
            "accepts_beyond_slots": self.beyond, "agenda_level": self.agenda_level,
            "agenda_software": self.agenda_software, "direct_booking":
                self.agenda_level == "end_to_end", "skills": self.skill_labels,
            "conditions": self.conditions, "phone_direct": self.phone_direct,
            "phone_secretary": self.phone_secretary, "structure": self.structure,
            "structure_kind": self.structure_kind, "structure_phone": self.structure_phone,
            "practices": [{"id": p.id, "name": p.name, "address": p.address,
                           "commune_insee": p.commune_insee, "commune": p.commune_name,
                           "postal_code": p.postal_code} for p in self.places],
            "commune": main.commune_name if main else "",
        }

    def usable(self, s: _Slot, allowed_types: frozenset[str] | None,
               allowed_vis: frozenset[str] | None) -> bool:
        if s.booked >= s.capacity:
            return False
        if allowed_types is not None and s.ctype not in allowed_types:
            return False
        if False:
            return False
        for lo, hi, _, _ in self.unavail:
            if s.ts < hi and s.end_ts > lo:
                return False
        return True

    def absent_at(self, ts: float) -> tuple[datetime, str] | None:
        for lo, hi, until, reason in self.unavail:
            if lo <= ts < hi:
                return until, reason
        return None


def _place_key(address: str, commune_insee: str) -> str:
    return f"{commune_insee}|{fold(address)}"


class DirectoryIndex:
    """All effecteurs and their upcoming slots, in memory; thread-safe."""

    def __init__(self) -> None:
        self.revision = -1
        self.doctors: dict[int, _Doctor] = {}
        self.slot_owner: dict[int, int] = {}
        self.by_rpps: dict[str, int] = {}
        self.by_last_name: dict[str, set[int]] = defaultdict(set)
        self.by_place: dict[str, set[int]] = defaultdict(set)
        self._lock = threading.RLock()

    # -- loading ----------------------------------------------------------------------

    def sync(self, session: Session, now: datetime | None = None) -> int:
        """Bring the index up to the database's revision; returns rows reloaded."""
        with self._lock:
            revision = current_revision(session)
            if revision == self.revision:
                return 0
            since = self.revision
            floor = (now or datetime.now(UTC)) - PAST_KEPT
            changed = 0
            eff_q = select(Effecteur)
            if since >= 0:
                eff_q = eff_q.where(Effecteur.rev > since)
            effecteurs = session.scalars(eff_q).unique().all()
            if effecteurs:
                self._load_effecteurs(session, effecteurs, floor)
                changed += len(effecteurs)
            slot_q = select(Slot).where(Slot.end > floor)
            if since >= 0:
                slot_q = select(Slot).where(Slot.rev > since)
            for slot in session.execute(slot_q.execution_options(yield_per=5000)).scalars():
                self._put_slot(slot)
                changed += 1
            self.revision = revision
            return changed

    def _load_effecteurs(self, session: Session, effecteurs: Any, floor: datetime) -> None:
        ids = [e.id for e in effecteurs]
        structures = {s.id: s for s in session.scalars(select(Structure))}
        places: dict[int, list[_Place]] = defaultdict(list)
        unavail: dict[int, list[tuple[float, float, datetime, str]]] = defaultdict(list)
        for chunk in _chunks(ids, 900):
            for p in session.scalars(select(Practice).where(Practice.effecteur_id.in_(chunk))
                                     .order_by(Practice.id)):
                places[p.effecteur_id].append(_Place(
                    p.id, p.name, p.address, p.commune_insee, p.commune_name, p.postal_code,
                    p.lat, p.lon, _place_key(p.address, p.commune_insee)))
            for u in session.scalars(select(Unavailability).where(
                    Unavailability.effecteur_id.in_(chunk), Unavailability.end > floor)):
                unavail[u.effecteur_id].append((u.start.timestamp(), u.end.timestamp(), u.end,
                                                u.reason))
        for e in effecteurs:
            old = self.doctors.get(e.id)
            if old is not None:
                self._unlink(old)
            st = structures.get(e.structure_id) if e.structure_id else None
            doc = _Doctor(
                e.id, e.rpps, e.first_name, e.last_name, fold(e.last_name), fold(e.first_name),
                e.specialty, e.sas_participant, e.mode, e.accepts_beyond_slots, e.agenda_level,
                e.agenda_software, doctor_skills(e.skills or [], e.specialty),
                list(e.skills or []), e.conditions, e.phone_direct, e.phone_secretary,
                st.name if st else "", st.kind if st else "", st.snp_phone if st else "",
                e.active, "", places.get(e.id, []), sorted(unavail.get(e.id, [])))
            doc.blob = " ".join([e.rpps, fold(e.first_name), fold(e.last_name),
                                 fold(e.specialty), fold(doc.structure), *doc.skills,
                                 *(fold(p.name) for p in doc.places),
                                 *(fold(p.commune_name) for p in doc.places)])
            if old is not None:
                doc.starts, doc.slots = old.starts, old.slots
            self.doctors[e.id] = doc
            self.by_rpps[e.rpps] = e.id
            self.by_last_name[doc.name_key].add(e.id)
            for p in doc.places:
                self.by_place[p.key].add(e.id)

    def _unlink(self, doc: _Doctor) -> None:
        self.by_rpps.pop(doc.rpps, None)
        self.by_last_name[doc.name_key].discard(doc.id)
        for p in doc.places:
            self.by_place[p.key].discard(doc.id)

    def _put_slot(self, slot: Slot) -> None:
        owner = self.slot_owner.pop(slot.id, None)
        if owner is not None and owner in self.doctors:
            doc = self.doctors[owner]
            for i, s in enumerate(doc.slots):
                if s.id == slot.id:
                    del doc.slots[i]
                    del doc.starts[i]
                    break
        if slot.status != "open" or slot.effecteur_id not in self.doctors:
            return
        s = _Slot(slot.id, slot.effecteur_id, slot.start, slot.end, slot.start.timestamp(),
                  slot.end.timestamp(), slot.consultation_type, slot.capacity, slot.booked,
                  slot.is_range, slot.visibility, slot.practice_id)
        doc = self.doctors[slot.effecteur_id]
        i = bisect_left(doc.starts, s.ts)
        while i < len(doc.slots) and doc.starts[i] == s.ts and doc.slots[i].id < s.id:
            i += 1
        doc.starts.insert(i, s.ts)
        doc.slots.insert(i, s)
        self.slot_owner[slot.id] = slot.effecteur_id

    # -- searching ----------------------------------------------------------------------

    def search(self, query: SearchQuery, now: datetime) -> SearchResult:
        with self._lock:
            return _Search(self, query, now).run()


class _Search:
    def __init__(self, index: DirectoryIndex, q: SearchQuery, now: datetime):
        self.ix = index
        self.q = q
        self.now = now
        self.now_ts = now.timestamp()
        self.windows = [(a.timestamp(), b.timestamp()) for a, b in q.windows(now)]
        self.types = frozenset(str(t) for t in q.types) or None
        self.vis = frozenset(q.visibilities) or None
        self.required = frozenset(fold(s) for s in q.skills)
        self.preferred = q.preferred_skills()
        self.terms = q.text_terms()
        self.warnings: list[str] = []

    def _location(self) -> tuple[float, float, str | None] | None:
        if self.q.lat is not None and self.q.lon is not None:
            return self.q.lat, self.q.lon, None
        if self.q.commune_insee:
            found = geo.commune_position(self.q.commune_insee)
            if found is None:
                self.warnings.append(f"commune {self.q.commune_insee} inconnue : recherche "
                                     "sans distance")
            return found
        return None

    def _mt(self) -> tuple[set[int], bool]:
        rpps, words = parse_treating_doctor(self.q.treating_doctor)
        if rpps and rpps in self.ix.by_rpps:
            return {self.ix.by_rpps[rpps]}, False
        if not words:
            return set(), False
        found: set[int] = set()
        text = " ".join(words)
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                found |= self.ix.by_last_name.get(" ".join(words[i:j]), set())
        found = {d for d in found if self.ix.doctors[d].active}
        if len(found) > 1:  # "Dr Marie Martin" among several Martins
            narrowed = {d for d in found if self.ix.doctors[d].first_key
                        and f" {self.ix.doctors[d].first_key} " in f" {text} "}
            found = narrowed or found
        return found, len(found) > 1

    def _distance(self, doc: _Doctor, loc: tuple[float, float, str | None] | None
                  ) -> float | None:
        if loc is None:
            return None
        best = None
        for p in doc.places:
            if p.lat is None or p.lon is None:
                continue
            d = distance_km((loc[0], loc[1]), (p.lat, p.lon))
            best = d if best is None or d < best else best
        return best

    def _earliest(self, doc: _Doctor) -> _Slot | None:
        for lo, hi in self.windows:
            i = bisect_left(doc.starts, lo)
            slots = doc.slots
            while i < len(slots) and slots[i].ts < hi:
                if doc.usable(slots[i], self.types, self.vis):
                    return slots[i]
                i += 1
        return None

    def _matching(self, doc: _Doctor) -> list[_Slot]:
        out = []
        for lo, hi in self.windows:
            i = bisect_left(doc.starts, lo)
            while i < len(doc.slots) and doc.slots[i].ts < hi:
                if doc.usable(doc.slots[i], self.types, self.vis):
                    out.append(doc.slots[i])
                i += 1
        return out

    def _passes_filters(self, doc: _Doctor) -> bool:
        if self.required and not self.required <= doc.skills:
            return False
        return all(t in doc.blob for t in self.terms)

    def run(self) -> SearchResult:
        loc = self._location()
        radius = self.q.radius_km
        if radius is None and loc is not None:
            radius = geo.default_radius_km(loc[2]) if loc[2] else geo.FALLBACK_RADIUS_KM
        mt, mt_ambiguous = self._mt() if self.q.treating_doctor else (set(), False)
        confreres: set[int] = set()
        for d in mt:
            for p in self.ix.doctors[d].places:
                confreres |= self.ix.by_place.get(p.key, set())
        confreres -= mt
        ranked: list[tuple[tuple[Any, ...], DoctorHit, _Doctor]] = []
        beyond: list[tuple[tuple[Any, ...], DoctorHit, _Doctor]] = []
        box = _bbox(loc, radius) if loc is not None and radius is not None else None
        with_slots = 0
        for doc in self.ix.doctors.values():
            if not doc.active:
                continue
            special = doc.id in mt or doc.id in confreres
            if not special:
                if box is not None and not any(
                        p.lat is not None and p.lon is not None and box[0] <= p.lat <= box[1]
                        and box[2] <= p.lon <= box[3] for p in doc.places):
                    continue
                if not self._passes_filters(doc) or doc.absent_at(self.now_ts):
                    continue
            dist = self._distance(doc, loc)
            if not special and radius is not None and loc is not None and (
                    dist is None or dist > radius):
                continue
            first = self._earliest(doc)
            skill_match = len(self.preferred & doc.skills)
            if doc.id in mt:
                tier = TIER_MT
            elif doc.id in confreres:
                tier = TIER_CONFRERE
            elif first is not None:
                tier = TIER_SAS if doc.sas else TIER_OTHER
            else:
                tier = TIER_NONE
            if first is not None:
                with_slots += 1
            hit = DoctorHit(doc.id, tier, dist, first.start if first else None, skill_match,
                            mt_ambiguous=doc.id in mt and mt_ambiguous)
            ranked.append((rank_key(tier, skill_match, hit.earliest, dist, doc.name_key, doc.id),
                           hit, doc))
            if not special and doc.beyond and first is None:
                beyond.append((beyond_key(skill_match, dist, doc.name_key, doc.id), hit, doc))
        ranked.sort(key=lambda r: r[0])
        shown = [self._detail(hit, doc) for _, hit, doc in ranked[: self.q.limit]]
        beyond_list: list[DoctorHit] = []
        if with_slots == 0:
            beyond.sort(key=lambda r: r[0])
            beyond_list = [self._detail(hit, doc) for _, hit, doc in beyond[: self.q.limit]]
        location = None
        if loc is not None:
            location = {"lat": loc[0], "lon": loc[1], "department": loc[2],
                        "commune_insee": self.q.commune_insee}
        if self.q.treating_doctor and not mt:
            self.warnings.append("médecin traitant absent de l'annuaire : appelez-le d'abord")
        return SearchResult(self.now, radius, shown, beyond_list, len(ranked), with_slots,
                            location, self.warnings)

    def _detail(self, hit: DoctorHit, doc: _Doctor) -> DoctorHit:
        matching = self._matching(doc)
        hit.slot_count = len(matching)
        per_day: dict[Any, list[_Slot]] = defaultdict(list)
        for s in matching:
            per_day[s.start.astimezone(PARIS).date()].append(s)
        hit.days = []
        for day in days_shown(self.now):
            slots = per_day.get(day, [])
            hit.days.append({"date": day.isoformat(),
                             "slots": [s.hit().to_dict() for s in slots[: self.q.slots_per_day]],
                             "more": max(0, len(slots) - self.q.slots_per_day)})
        hit.info = doc.info()
        absent = doc.absent_at(self.now_ts)
        hit.info["absent_until"] = absent[0].isoformat() if absent else None
        hit.info["absence_reason"] = absent[1] if absent else ""
        return hit


def _bbox(loc: tuple[float, float, str | None], radius: float
          ) -> tuple[float, float, float, float]:
    dlat = radius / 110.5 + 0.01
    dlon = radius / (111.32 * max(0.05, math.cos(math.radians(loc[0])))) + 0.01
    return loc[0] - dlat, loc[0] + dlat, loc[1] - dlon, loc[1] + dlon


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]

