"""The slot-search engine: the directory in memory, kept fresh by revision deltas.

Why in memory: a search ranks every doctor in the radius by "has a matching slot"
and "earliest one", which in SQL means reading every slot of the radius for the 72 h
(tens of thousands of rows in a dense department) on every keystroke. Here doctors
sit in a 0.05° grid and each doctor's free slots are sorted by start time, so the
earliest match is one bisect. ``sync`` reads only the rows whose ``rev`` is newer
than the last one seen (a booking elsewhere costs one small query), so every desk,
and every hub process on a shared PostgreSQL, searches fresh data.
"""

from __future__ import annotations

import gc
import math
import threading
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.directory import geo
from app.directory.models import (
    Booking,
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
    specialty_match,
)
from app.directory.vocab import PARIS, week_bounds
from app.domain.professions import DENTISTE, MEDECIN, wanted_label, wanted_of_effecteur
from app.geo import EARTH_RADIUS_KM

#: Slots older than this are not loaded (they can no longer be offered)...
PAST_KEPT = timedelta(hours=12)
#: ...and a long-running index drops them this often.
PRUNE_EVERY = timedelta(hours=1)
_INF = float("inf")


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
    day: date  # local (Paris) date of the start, for the per-day columns
    structure_id: int | None = None
    cached: dict[str, Any] | None = None

    @property
    def restricted(self) -> bool:
        """A CPTS-visibility slot linked to its CPTS: for that structure's desks only."""
        return self.structure_id is not None and self.visibility == "CPTS"

    def view(self) -> dict[str, Any]:
        # A slot whose bookings change is replaced by a new _Slot: the view cannot go stale.
        if self.cached is None:
            self.cached = SlotHit(
                self.id, self.start, self.end, self.ctype, self.capacity, self.booked,
                self.is_range, self.visibility, self.practice_id,
            ).to_dict()  # fmt: skip
        return self.cached


_NO_SLOTS: tuple[list[float], list[_Slot]] = ([], [])
_SLOT_COLUMNS = (
    Slot.id, Slot.effecteur_id, Slot.start, Slot.end, Slot.consultation_type, Slot.capacity,
    Slot.booked, Slot.is_range, Slot.visibility, Slot.practice_id, Slot.status,
    Slot.structure_id,
)  # fmt: skip


def _slot_of(row: Any) -> _Slot:
    return _Slot(
        row.id, row.effecteur_id, row.start, row.end, row.start.timestamp(),
        row.end.timestamp(), row.consultation_type, row.capacity, row.booked, row.is_range,
        row.visibility, row.practice_id, row.start.astimezone(PARIS).date(),
        row.structure_id,
    )  # fmt: skip


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
    rlat: float = 0.0
    rlon: float = 0.0
    coslat: float = 0.0

    def __post_init__(self) -> None:
        if self.lat is not None and self.lon is not None:
            self.rlat, self.rlon = math.radians(self.lat), math.radians(self.lon)
            self.coslat = math.cos(self.rlat)


@dataclass
class _Doctor:
    id: int
    rpps: str
    first_name: str
    last_name: str
    name_key: str
    first_key: str
    specialty: str
    profession_code: str  # TRE-G15, as app.domain.professions reads the directory
    specialty_code: str  # TRE-R38 for a médecin, "" otherwise
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
    # Slots with a free place, by consultation type (None: all types), sorted like
    # ``slots``: the earliest match of a plain search is one bisect.
    free: dict[str | None, tuple[list[float], list[_Slot]]] = field(default_factory=dict)
    cached_info: dict[str, Any] | None = None
    restricted: bool = False  # has slots some desks may not see (CPTS-reserved)

    def rebuild_free(self) -> None:
        free: dict[str | None, tuple[list[float], list[_Slot]]] = {None: ([], [])}
        self.restricted = any(x.restricted for x in self.slots)
        for x in self.slots:
            if x.booked < x.capacity:
                for key in (None, x.ctype):
                    starts, slots = free.setdefault(key, ([], []))
                    starts.append(x.ts)
                    slots.append(x)
        self.free = free

    @property
    def title(self) -> str:
        """ "Dr " for a médecin or a chirurgien-dentiste; nothing for a nurse, a midwife…"""
        return "Dr " if self.profession_code in (MEDECIN, DENTISTE) else ""

    def info(self) -> dict[str, Any]:
        if self.cached_info is None:
            main = self.places[0] if self.places else None
            self.cached_info = {
                "rpps": self.rpps,
                "name": f"{self.title}{self.first_name} {self.last_name}".replace(
                    "  ", " "
                ).strip(),
                "first_name": self.first_name,
                "last_name": self.last_name,
                "specialty": self.specialty,
                "profession_code": self.profession_code,
                "specialty_code": self.specialty_code,
                "profession_label": wanted_label(self.profession_code, self.specialty_code),
                "sas_participant": self.sas,
                "mode": self.mode,
                "accepts_beyond_slots": self.beyond,
                "agenda_level": self.agenda_level,
                "agenda_software": self.agenda_software,
                "direct_booking": self.agenda_level == "end_to_end",
                "skills": self.skill_labels,
                "conditions": self.conditions,
                "phone_direct": self.phone_direct,
                "phone_secretary": self.phone_secretary,
                "structure": self.structure,
                "structure_kind": self.structure_kind,
                "structure_phone": self.structure_phone,
                "practices": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "address": p.address,
                        "commune_insee": p.commune_insee,
                        "commune": p.commune_name,
                        "postal_code": p.postal_code,
                    }
                    for p in self.places
                ],
                "commune": main.commune_name if main else "",
            }
        return self.cached_info

    def usable(
        self,
        s: _Slot,
        allowed_types: frozenset[str] | None,
        allowed_vis: frozenset[str] | None,
        structures: frozenset[int] | None = None,
    ) -> bool:
        if s.booked >= s.capacity:
            return False
        if structures is not None and s.restricted and s.structure_id not in structures:
            return False
        if allowed_types is not None and s.ctype not in allowed_types:
            return False
        if allowed_vis is not None and s.visibility not in allowed_vis:
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


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat * 20), math.floor(lon * 20)


class DirectoryIndex:
    """All effecteurs and their upcoming slots, in memory; thread-safe."""

    def __init__(self) -> None:
        self.revision = -1
        self.doctors: dict[int, _Doctor] = {}
        self.slot_owner: dict[int, int] = {}
        self.by_rpps: dict[str, int] = {}
        self.by_last_name: dict[str, set[int]] = defaultdict(set)
        self.by_place: dict[str, set[int]] = defaultdict(set)
        self.cells: dict[tuple[int, int], set[int]] = defaultdict(set)  # 0.05° grid
        # Regulated SNP bookings per doctor in the current (Paris) week: every booking
        # bumps the revision, so the counts are re-read only when something changed.
        self._week: tuple[datetime, datetime] | None = None
        self._week_rev = -1
        self._week_counts: dict[int, int] = {}
        self._pruned_at: datetime | None = None
        self._lock = threading.RLock()

    # -- loading ----------------------------------------------------------------------

    def sync(self, session: Session, now: datetime | None = None) -> int:
        """Bring the index up to the database's revision; returns rows reloaded."""
        now = now or datetime.now(UTC)
        with self._lock:
            revision = current_revision(session)
            changed = 0
            if revision != self.revision:
                changed = self._reload(session, revision, now)
            if self._pruned_at is None:
                self._pruned_at = now
            elif now - self._pruned_at >= PRUNE_EVERY:
                self._prune(now - PAST_KEPT)
                self._pruned_at = now
            week = week_bounds(now)
            if week != self._week or revision != self._week_rev:
                rows = session.execute(
                    select(Booking.effecteur_id, func.count(Booking.id))
                    .where(
                        Booking.snp.is_(True),
                        Booking.released_at.is_(None),
                        Booking.appointment_at >= week[0],
                        Booking.appointment_at < week[1],
                    )
                    .group_by(Booking.effecteur_id)
                )
                self._week_counts = {int(e): int(n) for e, n in rows}
                self._week, self._week_rev = week, revision
            return changed

    def _prune(self, floor: datetime) -> int:
        """Forget slots that ended before ``floor``; returns how many."""
        limit = floor.timestamp()
        dropped = 0
        for doc in self.doctors.values():
            if not doc.starts or doc.starts[0] >= limit:
                continue  # sorted by start: an ended slot starts before the floor
            keep = [x for x in doc.slots if x.end_ts >= limit]
            if len(keep) == len(doc.slots):
                continue
            for x in doc.slots:
                if x.end_ts < limit:
                    self.slot_owner.pop(x.id, None)
            dropped += len(doc.slots) - len(keep)
            doc.slots = keep
            doc.starts = [x.ts for x in keep]
            doc.rebuild_free()
        return dropped

    def slot_count(self) -> int:
        return len(self.slot_owner)

    def weekly_snp(self, effecteur_id: int) -> int:
        """Regulated SNP patients booked this week (as of the last ``sync``)."""
        return self._week_counts.get(effecteur_id, 0)

    def _reload(self, session: Session, revision: int, now: datetime) -> int:
        since = self.revision
        floor = now - PAST_KEPT
        changed = 0
        eff_q = select(Effecteur)
        if since >= 0:
            eff_q = eff_q.where(Effecteur.rev > since)
        effecteurs = session.scalars(eff_q).unique().all()
        if effecteurs:
            self._load_effecteurs(session, effecteurs, floor)
            changed += len(effecteurs)
        slot_q = select(*_SLOT_COLUMNS)
        if since >= 0:
            slot_q = slot_q.where(Slot.rev > since)
        else:
            slot_q = slot_q.where(Slot.end > floor, Slot.status == "open")
        rows = session.execute(slot_q.execution_options(yield_per=10000))
        if since < 0:
            changed += self._bulk_slots(rows)
            # Hundreds of thousands of long-lived objects: keep them out of the cyclic
            # GC's full collections, which otherwise pause a search for hundreds of ms.
            # Collect first only on the main thread: with the hub inside the desk's
            # process, a collection on this (hub) thread would free the desk's Qt objects
            # here, leaving their timers dangling (ui/main_thread_gc.py); what garbage is
            # frozen instead is a one-time, bounded cost.
            if threading.current_thread() is threading.main_thread():
                gc.collect()
            gc.freeze()
        else:
            for row in rows:
                self._put_slot(row)
                changed += 1
        self.revision = revision
        return changed

    def _load_effecteurs(self, session: Session, effecteurs: Any, floor: datetime) -> None:
        ids = [e.id for e in effecteurs]
        structures = {s.id: s for s in session.scalars(select(Structure))}
        places: dict[int, list[_Place]] = defaultdict(list)
        unavail: dict[int, list[tuple[float, float, datetime, str]]] = defaultdict(list)
        for chunk in _chunks(ids, 900):
            for p in session.scalars(
                select(Practice).where(Practice.effecteur_id.in_(chunk)).order_by(Practice.id)
            ):
                places[p.effecteur_id].append(
                    _Place(
                        p.id,
                        p.name,
                        p.address,
                        p.commune_insee,
                        p.commune_name,
                        p.postal_code,
                        p.lat,
                        p.lon,
                        _place_key(p.address, p.commune_insee),
                    )  # fmt: skip
                )
            for u in session.scalars(
                select(Unavailability).where(
                    Unavailability.effecteur_id.in_(chunk), Unavailability.end > floor
                )
            ):
                unavail[u.effecteur_id].append(
                    (u.start.timestamp(), u.end.timestamp(), u.end, u.reason)
                )
        for e in effecteurs:
            old = self.doctors.get(e.id)
            if old is not None:
                self._unlink(old)
            st = structures.get(e.structure_id) if e.structure_id else None
            kind = wanted_of_effecteur(e.profession, e.specialty)
            doc = _Doctor(
                e.id, e.rpps, e.first_name, e.last_name, fold(e.last_name), fold(e.first_name),
                e.specialty, kind.profession, kind.specialty, e.sas_participant, e.mode,
                e.accepts_beyond_slots, e.agenda_level, e.agenda_software,
                doctor_skills(e.skills or [], e.specialty),
                list(e.skills or []), e.conditions, e.phone_direct, e.phone_secretary,
                st.name if st else "", st.kind if st else "", st.snp_phone if st else "",
                e.active, "", places.get(e.id, []), sorted(unavail.get(e.id, [])),
            )  # fmt: skip
            doc.blob = " ".join(
                [
                    e.rpps,
                    fold(e.first_name),
                    fold(e.last_name),
                    fold(e.specialty),
                    fold(e.profession),
                    fold(doc.structure),
                    *doc.skills,
                    *(fold(p.name) for p in doc.places),
                    *(fold(p.commune_name) for p in doc.places),
                ]
            )
            if old is not None:
                doc.starts, doc.slots, doc.free = old.starts, old.slots, old.free
            self.doctors[e.id] = doc
            self.by_rpps[e.rpps] = e.id
            self.by_last_name[doc.name_key].add(e.id)
            for place in doc.places:
                self.by_place[place.key].add(e.id)
                if place.lat is not None and place.lon is not None:
                    self.cells[_cell(place.lat, place.lon)].add(e.id)

    def _unlink(self, doc: _Doctor) -> None:
        self.by_rpps.pop(doc.rpps, None)
        self.by_last_name[doc.name_key].discard(doc.id)
        for place in doc.places:
            self.by_place[place.key].discard(doc.id)
            if place.lat is not None and place.lon is not None:
                self.cells[_cell(place.lat, place.lon)].discard(doc.id)

    def _bulk_slots(self, rows: Any) -> int:
        """First load: append everything, then sort each doctor's slots once."""
        n = 0
        for row in rows:
            doc = self.doctors.get(row.effecteur_id)
            if doc is None:
                continue
            doc.slots.append(_slot_of(row))
            self.slot_owner[row.id] = row.effecteur_id
            n += 1
        for doc in self.doctors.values():
            doc.slots.sort(key=lambda x: (x.ts, x.id))
            doc.starts = [x.ts for x in doc.slots]
            doc.rebuild_free()
        return n

    def _put_slot(self, row: Any) -> None:
        owner = self.slot_owner.pop(row.id, None)
        if owner is not None and owner in self.doctors:
            doc = self.doctors[owner]
            for i, x in enumerate(doc.slots):
                if x.id == row.id:
                    del doc.slots[i]
                    del doc.starts[i]
                    break
            doc.rebuild_free()
        if row.status != "open" or row.effecteur_id not in self.doctors:
            return
        new = _slot_of(row)
        doc = self.doctors[row.effecteur_id]
        i = bisect_left(doc.starts, new.ts)
        while i < len(doc.slots) and doc.starts[i] == new.ts and doc.slots[i].id < new.id:
            i += 1
        doc.starts.insert(i, new.ts)
        doc.slots.insert(i, new)
        doc.rebuild_free()
        self.slot_owner[row.id] = row.effecteur_id

    # -- searching ----------------------------------------------------------------------

    def search(self, query: SearchQuery, now: datetime) -> SearchResult:
        with self._lock:
            return _Search(self, query, now).run()


_Row = tuple[tuple[Any, ...], _Doctor, int, float | None, _Slot | None, int, int]


class _Search:
    def __init__(self, index: DirectoryIndex, q: SearchQuery, now: datetime):
        self.ix = index
        self.q = q
        self.now = now
        self.now_ts = now.timestamp()
        self.windows = [(a.timestamp(), b.timestamp()) for a, b in q.windows(now)]
        self.types = frozenset(str(t) for t in q.types) or None
        self.vis = frozenset(q.visibilities) or None
        self.structures = q.structures
        self.required = frozenset(fold(s) for s in q.skills)
        self.preferred = q.preferred_skills()
        self.terms = q.text_terms()
        self.warnings: list[str] = []
        self._here = (0.0, 0.0, 1.0)

    def _location(self) -> tuple[float, float, str | None] | None:
        if self.q.lat is not None and self.q.lon is not None:
            return self.q.lat, self.q.lon, None
        if self.q.commune_insee:
            found = geo.commune_position(self.q.commune_insee)
            if found is None:
                self.warnings.append(
                    f"commune {self.q.commune_insee} inconnue : recherche sans distance"
                )
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
            narrowed = {
                d
                for d in found
                if self.ix.doctors[d].first_key
                and f" {self.ix.doctors[d].first_key} " in f" {text} "
            }
            found = narrowed or found
        return found, len(found) > 1

    def _distance(
        self, doc: _Doctor, box: tuple[float, float, float, float] | None
    ) -> float | None:
        """Haversine, as app.geo.distance_km, with the practice's trigonometry cached;
        practices outside ``box`` (a bounding box wider than the radius) are skipped."""
        best = None
        rlat, rlon, coslat = self._here
        for p in doc.places:
            if p.lat is None or p.lon is None:
                continue
            if box is not None and not (box[0] <= p.lat <= box[1] and box[2] <= p.lon <= box[3]):
                continue
            h = (
                math.sin((p.rlat - rlat) / 2) ** 2
                + coslat * p.coslat * math.sin((p.rlon - rlon) / 2) ** 2
            )
            d = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
            best = d if best is None or d < best else best
        return best

    def _scan_only(self, doc: _Doctor) -> bool:
        """The per-type free lists cannot answer: absences, visibility filters, or
        CPTS-reserved slots this desk may not see."""
        return bool(
            doc.unavail or self.vis is not None or (doc.restricted and self.structures is not None)
        )

    def _earliest(self, doc: _Doctor) -> _Slot | None:
        if self._scan_only(doc):
            return self._earliest_scan(doc)
        best: _Slot | None = None
        for key in self.types or (None,):
            starts, slots = doc.free.get(key) or _NO_SLOTS
            for lo, hi in self.windows:
                i = bisect_left(starts, lo)
                if i < len(starts) and starts[i] < hi:
                    if best is None or (slots[i].ts, slots[i].id) < (best.ts, best.id):
                        best = slots[i]
                    break
        return best

    def _earliest_scan(self, doc: _Doctor) -> _Slot | None:
        for lo, hi in self.windows:
            i = bisect_left(doc.starts, lo)
            slots = doc.slots
            while i < len(slots) and slots[i].ts < hi:
                if doc.usable(slots[i], self.types, self.vis, self.structures):
                    return slots[i]
                i += 1
        return None

    def _matching(self, doc: _Doctor) -> list[_Slot]:
        if not self._scan_only(doc):
            found: list[_Slot] = []
            for key in self.types or (None,):
                starts, slots = doc.free.get(key) or _NO_SLOTS
                for lo, hi in self.windows:
                    found.extend(slots[bisect_left(starts, lo) : bisect_left(starts, hi)])
            if self.types is not None and len(self.types) > 1:
                found.sort(key=lambda x: (x.ts, x.id))
            return found
        out = []
        for lo, hi in self.windows:
            i = bisect_left(doc.starts, lo)
            while i < len(doc.slots) and doc.slots[i].ts < hi:
                if doc.usable(doc.slots[i], self.types, self.vis, self.structures):
                    out.append(doc.slots[i])
                i += 1
        return out

    def _passes_filters(self, doc: _Doctor) -> bool:
        if self.required and not self.required <= doc.skills:
            return False
        return all(t in doc.blob for t in self.terms)

    def _pool(self, box: tuple[float, float, float, float] | None, special: set[int]) -> Any:
        if box is None:
            return self.ix.doctors.values()
        # Only the grid cells the bounding box touches, plus the MT and confrères.
        ids = set(special)
        (la0, lo0), (la1, lo1) = _cell(box[0], box[2]), _cell(box[1], box[3])
        for la in range(la0, la1 + 1):
            for lo in range(lo0, lo1 + 1):
                ids |= self.ix.cells.get((la, lo), set())
        return [self.ix.doctors[i] for i in ids if i in self.ix.doctors]

    def run(self) -> SearchResult:
        loc = self._location()
        radius = self.q.radius_km
        if loc is not None:
            self._here = (
                math.radians(loc[0]), math.radians(loc[1]), math.cos(math.radians(loc[0]))
            )  # fmt: skip
            if radius is None:
                radius = geo.default_radius_km(loc[2]) if loc[2] else geo.FALLBACK_RADIUS_KM
        follow_mt = bool(self.q.treating_doctor) and self.q.follows_treating_doctor
        mt, mt_ambiguous = self._mt() if follow_mt else (set(), False)
        confreres: set[int] = set()
        for d in mt:
            for p in self.ix.doctors[d].places:
                confreres |= self.ix.by_place.get(p.key, set())
        confreres -= mt
        special_ids = mt | confreres
        box = _bbox(loc, radius) if loc is not None and radius is not None else None
        limited = box is not None
        # (rank key, doctor, tier, distance, earliest slot, skill match, specialty match):
        # hits are built only for the doctors shown.
        ranked: list[_Row] = []
        beyond: list[_Row] = []
        with_slots = 0
        # The hot loop (hundreds of doctors in a dense radius): locals, and the
        # distance and earliest-slot fast paths inlined for the ordinary doctor.
        rlat, rlon, coslat = self._here
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        b0, b1, b2, b3 = box if box is not None else (0.0, 0.0, 0.0, 0.0)
        windows = self.windows
        fast_key: Any = next(iter(self.types)) if self.types and len(self.types) == 1 else None
        fast = self.vis is None and (self.types is None or fast_key is not None)
        filters = bool(self.required or self.terms)
        preferred = self.preferred
        now_ts = self.now_ts
        profession = self.q.profession
        specialty = self.q.specialty if self.q.ranks_specialty else ""
        for doc in self._pool(box, special_ids):
            if not doc.active or (profession and doc.profession_code != profession):
                continue
            special = doc.id in special_ids
            if special or not limited:
                dist = self._distance(doc, None) if loc is not None else None
            else:
                dist = None
                for p in doc.places:
                    if p.lat is None or not (b0 <= p.lat <= b1 and b2 <= p.lon <= b3):
                        continue
                    h = (
                        sin((p.rlat - rlat) / 2) ** 2
                        + coslat * p.coslat * sin((p.rlon - rlon) / 2) ** 2
                    )
                    km = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
                    if dist is None or km < dist:
                        dist = km
                if dist is None or dist > radius:  # type: ignore[operator]
                    continue
            if not special:
                if filters and not self._passes_filters(doc):
                    continue
                if doc.unavail and doc.absent_at(now_ts):
                    continue
            first: _Slot | None = None
            if fast and not doc.unavail and not (doc.restricted and self.structures is not None):
                starts, slots = doc.free.get(fast_key) or _NO_SLOTS
                for lo, hi in windows:
                    i = bisect_left(starts, lo)
                    if i < len(starts) and starts[i] < hi:
                        first = slots[i]
                        break
            else:
                first = self._earliest(doc)
            skill_match = len(preferred & doc.skills) if preferred else 0
            spec = specialty_match(specialty, doc.specialty_code, doc.skills) if specialty else 0
            if not special:
                if first is not None:
                    tier = TIER_SAS if doc.sas else TIER_OTHER
                else:
                    tier = TIER_NONE
            else:
                tier = TIER_MT if doc.id in mt else TIER_CONFRERE
            if first is not None:
                with_slots += 1
            # The key of query.rank_key, built inline.
            key = (
                -spec,
                tier,
                -skill_match,
                first.ts if first is not None else _INF,
                dist if dist is not None else _INF,
                doc.name_key,
                doc.id,
            )
            ranked.append((key, doc, tier, dist, first, skill_match, spec))
            if not special and doc.beyond and first is None:
                beyond.append(
                    (beyond_key(skill_match, dist, doc.name_key, doc.id, spec), doc, tier, dist,
                     first, skill_match, spec)
                )  # fmt: skip
        ranked.sort(key=lambda r: r[0])
        shown = [self._detail(r, mt_ambiguous and r[1].id in mt) for r in ranked[: self.q.limit]]
        beyond_list: list[DoctorHit] = []
        if with_slots == 0:
            beyond.sort(key=lambda r: r[0])
            beyond_list = [self._detail(r, False) for r in beyond[: self.q.limit]]
        location = None
        if loc is not None:
            location = {
                "lat": loc[0],
                "lon": loc[1],
                "department": loc[2],
                "commune_insee": self.q.commune_insee,
            }
        if follow_mt and not mt:
            self.warnings.append("médecin traitant absent de l'annuaire : appelez-le d'abord")
        return SearchResult(
            self.now, radius, shown, beyond_list, len(ranked), with_slots, location,
            self.warnings,
        )  # fmt: skip

    def _detail(self, row: _Row, ambiguous: bool) -> DoctorHit:
        _, doc, tier, dist, first, skill_match, spec = row
        hit = DoctorHit(
            doc.id, tier, dist, first.start if first else None, skill_match,
            mt_ambiguous=ambiguous, specialty_match=spec,
        )  # fmt: skip
        matching = self._matching(doc)
        hit.slot_count = len(matching)
        per_day: dict[date, list[_Slot]] = defaultdict(list)
        for s in matching:
            per_day[s.day].append(s)
        n = self.q.slots_per_day
        hit.days = [
            {
                "date": day.isoformat(),
                "slots": [s.view() for s in per_day.get(day, [])[:n]],
                "more": max(0, len(per_day.get(day, [])) - n),
            }
            for day in days_shown(self.now)
        ]
        hit.info = dict(doc.info())
        absent = doc.absent_at(self.now_ts) if doc.unavail else None
        hit.info["absent_until"] = absent[0].isoformat() if absent else None
        hit.info["absence_reason"] = absent[1] if absent else ""
        hit.weekly_snp = self.ix.weekly_snp(doc.id)
        return hit


def _bbox(loc: tuple[float, float, str | None], radius: float) -> tuple[float, float, float, float]:
    """A box a little wider than the radius (degrees of latitude and longitude)."""
    dlat = radius / 110.5 + 0.01
    dlon = radius / (111.32 * max(0.05, math.cos(math.radians(loc[0])))) + 0.01
    return loc[0] - dlat, loc[0] + dlat, loc[1] - dlon, loc[1] + dlon


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
