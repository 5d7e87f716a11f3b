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
import sys
import threading
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.directory import geo
from app.directory.booking_page import booking_page
from app.directory.models import (
    Booking,
    Effecteur,
    Practice,
    Slot,
    Structure,
    Unavailability,
    current_revision,
)
from app.directory.protocol import (
    DoctorCard,
    DoctorInfo,
    PracticeAgenda,
    SearchLocation,
    SearchSlot,
)
from app.directory.query import (
    TIER_CONFRERE,
    TIER_MT,
    TIER_NONE,
    TIER_OTHER,
    TIER_SAS,
    CptsFound,
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
from app.directory.vocab import PARIS, AgendaLevel, StructureKind, week_bounds
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
    #: The editor's booking page from the slot's comment (booked there, not here).
    booking_page: str | None = None
    cached: SearchSlot | None = None

    @property
    def restricted(self) -> bool:
        """A CPTS-visibility slot linked to its CPTS: for that structure's desks only."""
        return self.structure_id is not None and self.visibility == "CPTS"

    def view(self) -> SearchSlot:
        # A slot whose bookings change is replaced by a new _Slot: the view cannot go stale.
        if self.cached is None:
            self.cached = SlotHit(
                self.id, self.start, self.end, self.ctype, self.capacity, self.booked,
                self.is_range, self.visibility, self.practice_id, self.booking_page,
            ).to_dict()  # fmt: skip
        return self.cached


_NO_SLOTS: tuple[list[float], list[_Slot]] = ([], [])
_SLOT_COLUMNS = (
    Slot.id, Slot.effecteur_id, Slot.start, Slot.end, Slot.consultation_type, Slot.capacity,
    Slot.booked, Slot.is_range, Slot.visibility, Slot.practice_id, Slot.status,
    Slot.structure_id, Slot.comment,
)  # fmt: skip


def _slot_of(row: Any) -> _Slot:
    return _Slot(
        row.id, row.effecteur_id, row.start, row.end, row.start.timestamp(),
        row.end.timestamp(), sys.intern(row.consultation_type), row.capacity, row.booked,
        row.is_range, sys.intern(row.visibility), row.practice_id,
        row.start.astimezone(PARIS).date(), row.structure_id,
        booking_page(row.comment) if row.comment else None,
    )  # fmt: skip


def _agenda(software: str, level: str) -> PracticeAgenda:
    """The agenda connected to the SAS at a place, as the result rows show it."""
    known = level in AgendaLevel.__members__.values()
    label = AgendaLevel(level).label if known else (level or AgendaLevel.NONE.label)
    label = label.removeprefix("agenda ")
    return {
        "agenda_software": software,
        "agenda_level": level,
        "agenda_label": f"{label} · {software}" if software else label,
    }


@dataclass(slots=True)
class _Cpts:
    id: int
    name: str
    snp_phone: str
    national_id: str
    communes: int


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
    agenda_software: str = ""
    agenda_level: str = ""  # "": the effecteur's
    #: Places at the same position share a spot: a search computes each spot's distance
    #: once (the national file puts every practice of a commune on its centre).
    spot: int = -1
    rlat: float = 0.0
    rlon: float = 0.0
    coslat: float = 0.0

    def __post_init__(self) -> None:
        if self.lat is not None and self.lon is not None:
            self.rlat, self.rlon = math.radians(self.lat), math.radians(self.lon)
            self.coslat = math.cos(self.rlat)


#: Shared by every doctor without any: replaced, never mutated (see ``_own_slots``).
_NO_SLOT_LIST: list[_Slot] = []
_NO_STARTS: list[float] = []
_NO_FREE: dict[str | None, tuple[list[float], list[_Slot]]] = {}
_NO_SKILLS: frozenset[str] = frozenset()
_NO_LABELS: list[str] = []
_NO_UNAVAIL: list[tuple[float, float, datetime, str]] = []


# slots=True and shared empty containers: the national directory holds several hundred
# thousand doctors, most of them without a slot (docs/directory.md, "National scale").
@dataclass(slots=True)
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
    #: Brought by the national file alone (source "rpps"): searched by the map only
    #: once the SAS knows something of them (``listed``).
    national: bool
    places: list[_Place]
    unavail: list[tuple[float, float, datetime, str]]
    structure_id: int | None = None
    starts: list[float] = field(default_factory=lambda: _NO_STARTS)
    slots: list[_Slot] = field(default_factory=lambda: _NO_SLOT_LIST)
    # Slots with a free place, by consultation type (None: all types), sorted like
    # ``slots``: the earliest match of a plain search is one bisect.
    free: dict[str | None, tuple[list[float], list[_Slot]]] = field(
        default_factory=lambda: _NO_FREE
    )
    cached_info: DoctorCard | None = None
    restricted: bool = False  # has slots some desks may not see (CPTS-reserved)
    blob: str = ""  # the searched text, built on first use (``text``)
    gridded: bool = False  # in the index's geographic grid

    @property
    def listed(self) -> bool:
        """In the geographic search: what the SAS entered, or a national-file row that
        takes part, accepts patients beyond slots, or publishes slots. Everyone is
        still found as a treating doctor or a confrère."""
        return not self.national or self.sas or self.beyond or bool(self.slots)

    def own_slots(self) -> None:
        """Give the doctor lists of their own before one is changed in place."""
        if self.slots is _NO_SLOT_LIST:
            self.slots, self.starts = [], []

    def text(self) -> str:
        if not self.blob:
            self.blob = " ".join(
                [
                    self.rpps, self.first_key, self.name_key, fold(self.specialty),
                    fold(wanted_label(self.profession_code, self.specialty_code)),
                    fold(self.structure), *self.skills, *(fold(p.name) for p in self.places),
                    *(fold(p.commune_name) for p in self.places),
                ]
            )  # fmt: skip
        return self.blob

    def rebuild_free(self) -> None:
        if not self.slots:
            self.free, self.restricted = _NO_FREE, False
            return
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

    def info(self) -> DoctorCard:
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
                        **_agenda(
                            p.agenda_software or self.agenda_software,
                            p.agenda_level or self.agenda_level,
                        ),
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


def indexed(floor: datetime) -> ColumnElement[bool]:
    """The effecteurs the index holds: every doctor (a treating doctor or a confrère
    may be any of them), everything the SAS entered, and the national file's other
    professionals once they take part, accept patients beyond slots or publish a
    slot. The national file's 700,000 other rows stay in the database."""
    own = aliased(Slot)
    return or_(
        Effecteur.source != "rpps",
        Effecteur.profession == "Médecin",
        Effecteur.sas_participant.is_(True),
        Effecteur.accepts_beyond_slots.is_(True),
        Effecteur.id.in_(select(own.effecteur_id).where(own.status == "open", own.end > floor)),
    )


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
        self.by_first_name: dict[str, set[int]] = defaultdict(set)
        # Tuples, not sets: one address is one doctor's at most times, and a set costs
        # four times a one-item tuple over the national directory.
        self.by_place: dict[str, tuple[int, ...]] = {}
        # The 0.05° grid: cell -> spot (a position several places may share) -> doctors.
        # A search measures a spot's distance once and skips its doctors together.
        self.cells: dict[tuple[int, int], dict[int, set[int]]] = defaultdict(dict)
        self.spots: dict[tuple[float, float], int] = {}
        self.spot_pos: list[tuple[float, float, float]] = []  # radians: lat, lon, cos(lat)
        self.by_structure: dict[int, set[int]] = defaultdict(set)
        # The CPTS and, per INSEE commune, those whose intervention zone covers it.
        self.cpts: dict[int, _Cpts] = {}
        self.cpts_of_commune: dict[str, list[int]] = {}
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
            self._regrid(doc)
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
        # Rows, not ORM objects: a national directory loads in seconds, not minutes.
        eff_q = select(*Effecteur.__table__.columns).where(indexed(floor))
        if since >= 0:
            eff_q = eff_q.where(Effecteur.rev > since)
            for gone in session.scalars(
                select(Effecteur.id).where(Effecteur.rev > since, ~indexed(floor))
            ):
                old = self.doctors.pop(gone, None)
                if old is not None:
                    self._unlink(old)
                    for x in old.slots:
                        self.slot_owner.pop(x.id, None)
                    changed += 1
        st_q = select(Structure)
        if since >= 0:
            st_q = st_q.where(Structure.rev > since)
        changed_structures = session.scalars(st_q).all()
        if changed_structures:
            self._load_structures(session)
            changed += len(changed_structures)
        effecteurs = session.execute(eff_q.execution_options(yield_per=20000)).all()
        if effecteurs:
            self._load_effecteurs(session, effecteurs, floor, everything=since < 0)
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
            newcomers: list[Any] = []  # open slots of effecteurs the index did not hold
            for row in rows:
                if row.effecteur_id not in self.doctors and row.status == "open":
                    newcomers.append(row)
                self._put_slot(row)
                changed += 1
            if newcomers:
                ids = list({r.effecteur_id for r in newcomers})
                for chunk in _chunks(ids, 900):
                    found = session.execute(
                        select(*Effecteur.__table__.columns).where(Effecteur.id.in_(chunk))
                    ).all()
                    self._load_effecteurs(session, found, floor)
                for row in newcomers:
                    self._put_slot(row)
        self.revision = revision
        return changed

    def _load_structures(self, session: Session) -> None:
        """The CPTS, their zones and phones; doctors show their structure's new name and
        phone (structures are few: all are re-read when one changes)."""
        structures = {s.id: s for s in session.scalars(select(Structure))}
        self.cpts = {
            s.id: _Cpts(s.id, s.name, s.snp_phone, s.national_id or "", len(s.communes or []))
            for s in structures.values()
            if s.kind == StructureKind.CPTS and s.communes
        }
        by_commune: dict[str, list[int]] = defaultdict(list)
        for s in sorted(self.cpts.values(), key=lambda c: (fold(c.name), c.id)):
            for insee in structures[s.id].communes or []:
                by_commune[str(insee)].append(s.id)
        self.cpts_of_commune = dict(by_commune)
        for doc in self.doctors.values():
            st = structures.get(doc.structure_id) if doc.structure_id else None
            if st is not None and (st.name, st.snp_phone) != (doc.structure, doc.structure_phone):
                doc.structure, doc.structure_phone = st.name, st.snp_phone
                doc.cached_info, doc.blob = None, ""

    def _load_effecteurs(
        self, session: Session, effecteurs: Any, floor: datetime, *, everything: bool = False
    ) -> None:
        ids = [e.id for e in effecteurs]
        structures = {s.id: s for s in session.scalars(select(Structure))}
        places: dict[int, list[_Place]] = defaultdict(list)
        unavail: dict[int, list[tuple[float, float, datetime, str]]] = defaultdict(list)
        intern = sys.intern  # a commune's name and codes once, not once per doctor
        place_q = select(
            Practice.id, Practice.effecteur_id, Practice.name, Practice.address,
            Practice.commune_insee, Practice.commune_name, Practice.postal_code, Practice.lat,
            Practice.lon, Practice.agenda_software, Practice.agenda_level,
        ).order_by(Practice.id)  # fmt: skip
        unavail_q = select(Unavailability).where(Unavailability.end > floor)
        for chunk in [ids] if everything else _chunks(ids, 900):
            pq = place_q.where(
                Practice.effecteur_id.in_(select(Effecteur.id).where(indexed(floor)))
                if everything
                else Practice.effecteur_id.in_(chunk)
            )
            for p in session.execute(pq.execution_options(yield_per=20000)):
                places[p.effecteur_id].append(
                    _Place(
                        p.id,
                        p.name,
                        p.address,
                        intern(p.commune_insee),
                        intern(p.commune_name),
                        intern(p.postal_code),
                        p.lat,
                        p.lon,
                        _place_key(p.address, p.commune_insee),
                        p.agenda_software,
                        p.agenda_level,
                        -1 if p.lat is None or p.lon is None else self._spot(p.lat, p.lon),
                    )
                )
            uq = (
                unavail_q if everything else unavail_q.where(Unavailability.effecteur_id.in_(chunk))
            )
            for u in session.scalars(uq):
                unavail[u.effecteur_id].append(
                    (u.start.timestamp(), u.end.timestamp(), u.end, u.reason)
                )
        for e in effecteurs:
            old = self.doctors.get(e.id)
            if old is not None:
                self._unlink(old)
            st = structures.get(e.structure_id) if e.structure_id else None
            leaves = unavail.get(e.id)
            kind = wanted_of_effecteur(e.profession, e.specialty)
            doc = _Doctor(
                e.id, e.rpps, intern(e.first_name), intern(e.last_name),
                intern(fold(e.last_name)), intern(fold(e.first_name)), intern(e.specialty),
                kind.profession, kind.specialty, e.sas_participant, intern(e.mode),
                e.accepts_beyond_slots,
                intern(e.agenda_level), intern(e.agenda_software),
                doctor_skills(e.skills or [], e.specialty) or _NO_SKILLS,
                list(e.skills) if e.skills else _NO_LABELS, e.conditions, e.phone_direct,
                e.phone_secretary, st.name if st else "", st.kind if st else "",
                st.snp_phone if st else "", e.active, e.source == "rpps",
                places.get(e.id, []), sorted(leaves) if leaves else _NO_UNAVAIL,
                e.structure_id,
            )  # fmt: skip
            if old is not None:
                doc.starts, doc.slots, doc.free = old.starts, old.slots, old.free
                doc.restricted = old.restricted
            self.doctors[e.id] = doc
            self.by_rpps[e.rpps] = e.id
            self.by_last_name[doc.name_key].add(e.id)
            if doc.structure_id is not None:
                self.by_structure[doc.structure_id].add(e.id)
            if doc.first_key:
                self.by_first_name[doc.first_key].add(e.id)
            for place in doc.places:
                self.by_place[place.key] = (*self.by_place.get(place.key, ()), e.id)
            self._regrid(doc)

    def _spot(self, lat: float, lon: float) -> int:
        spot = self.spots.get((lat, lon))
        if spot is None:
            spot = self.spots[(lat, lon)] = len(self.spot_pos)
            rlat = math.radians(lat)
            self.spot_pos.append((rlat, math.radians(lon), math.cos(rlat)))
        return spot

    def _regrid(self, doc: _Doctor) -> None:
        """Put the doctor in the geographic grid, or take them out, as ``listed`` says."""
        listed = doc.listed
        if listed == doc.gridded:
            return
        for place in doc.places:
            if place.lat is not None and place.lon is not None:
                if listed:
                    cell = self.cells[_cell(place.lat, place.lon)]
                    cell.setdefault(place.spot, set()).add(doc.id)
                else:
                    self._ungrid(doc.id, place)
        doc.gridded = listed

    def _ungrid(self, doc_id: int, place: _Place) -> None:
        assert place.lat is not None and place.lon is not None
        cell = self.cells.get(_cell(place.lat, place.lon))
        ids = cell.get(place.spot) if cell is not None else None
        if cell is not None and ids is not None:
            ids.discard(doc_id)
            if not ids:
                del cell[place.spot]

    def _unlink(self, doc: _Doctor) -> None:
        self.by_rpps.pop(doc.rpps, None)
        self.by_last_name[doc.name_key].discard(doc.id)
        if doc.structure_id is not None:
            self.by_structure[doc.structure_id].discard(doc.id)
        self.by_first_name.get(doc.first_key, set()).discard(doc.id)
        for place in doc.places:
            others = tuple(i for i in self.by_place.get(place.key, ()) if i != doc.id)
            if others:
                self.by_place[place.key] = others
            else:
                self.by_place.pop(place.key, None)
            if doc.gridded and place.lat is not None and place.lon is not None:
                self._ungrid(doc.id, place)

    def _bulk_slots(self, rows: Any) -> int:
        """First load: append everything, then sort each doctor's slots once."""
        n = 0
        for row in rows:
            doc = self.doctors.get(row.effecteur_id)
            if doc is None:
                continue
            doc.own_slots()
            doc.slots.append(_slot_of(row))
            self.slot_owner[row.id] = row.effecteur_id
            n += 1
        for doc in self.doctors.values():
            if not doc.slots:
                continue
            doc.slots.sort(key=lambda x: (x.ts, x.id))
            doc.starts = [x.ts for x in doc.slots]
            doc.rebuild_free()
            self._regrid(doc)
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
            self._regrid(doc)
        if row.status != "open" or row.effecteur_id not in self.doctors:
            return
        new = _slot_of(row)
        doc = self.doctors[row.effecteur_id]
        doc.own_slots()
        i = bisect_left(doc.starts, new.ts)
        while i < len(doc.slots) and doc.starts[i] == new.ts and doc.slots[i].id < new.id:
            i += 1
        doc.starts.insert(i, new.ts)
        doc.slots.insert(i, new)
        doc.rebuild_free()
        self._regrid(doc)
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
        self._hits: dict[int, DoctorHit] = {}  # the doctors detailed so far, by id
        self.spot_km: dict[int, float] = {}  # distance of each spot met, this search

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
        spans = [
            " ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)
        ]
        for span in spans:
            found |= self.ix.by_last_name.get(span, set())
        doctors = self.ix.doctors
        if len(found) > 1:  # "Dr Marie Martin" among several Martins (thousands, nationally)
            narrowed: set[int] = set()
            for span in spans:
                narrowed |= found & self.ix.by_first_name.get(span, set())
            narrowed = {d for d in narrowed if doctors[d].active}
            if narrowed:
                return narrowed, len(narrowed) > 1
        found = {d for d in found if doctors[d].active}
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
        text = doc.text()
        return all(t in text for t in self.terms)

    def _spot_distance(self, spot: int) -> float:
        km = self.spot_km.get(spot)
        if km is None:
            rlat, rlon, coslat = self._here
            plat, plon, pcos = self.ix.spot_pos[spot]
            h = math.sin((plat - rlat) / 2) ** 2 + coslat * pcos * math.sin((plon - rlon) / 2) ** 2
            km = self.spot_km[spot] = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
        return km

    def _pool(
        self,
        box: tuple[float, float, float, float] | None,
        special: set[int],
        radius: float | None = None,
    ) -> Any:
        if box is None:
            return self.ix.doctors.values()
        # Only the grid cells the bounding box touches, and in them the spots within the
        # radius; plus the MT and confrères.
        ids = set(special)
        (la0, lo0), (la1, lo1) = _cell(box[0], box[2]), _cell(box[1], box[3])
        for la in range(la0, la1 + 1):
            for lo in range(lo0, lo1 + 1):
                for spot, there in self.ix.cells.get((la, lo), {}).items():
                    if radius is None or self._spot_distance(spot) <= radius:
                        ids |= there
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
                confreres.update(self.ix.by_place.get(p.key, ()))
        confreres -= mt
        special_ids = mt | confreres
        box = _bbox(loc, radius) if loc is not None and radius is not None else None
        limited = box is not None
        # (rank key, doctor, tier, distance, earliest slot, skill match, specialty match):
        # hits are built only for the doctors shown.
        ranked: list[_Row] = []
        # Only the best ``limit`` rows are kept: past 2 × limit the list is cut back and
        # a row no better than the last kept one is only counted (a dense city has
        # thousands of candidates, a desk shows thirty).
        limit = max(1, self.q.limit)
        worst: tuple[Any, ...] | None = None
        candidates = 0
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
        spot_km = self.spot_km
        profession = self.q.profession
        specialty = self.q.specialty if self.q.ranks_specialty else ""
        for doc in self._pool(box, special_ids, radius):
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
                    km = spot_km.get(p.spot)
                    if km is None:
                        h = (
                            sin((p.rlat - rlat) / 2) ** 2
                            + coslat * p.coslat * sin((p.rlon - rlon) / 2) ** 2
                        )
                        km = spot_km[p.spot] = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
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
            candidates += 1
            if worst is None or key < worst:
                ranked.append((key, doc, tier, dist, first, skill_match, spec))
                if len(ranked) >= 2 * limit:
                    ranked.sort()
                    del ranked[limit:]
                    worst = ranked[-1][0]
            if not special and doc.beyond and first is None:
                beyond.append(
                    (beyond_key(skill_match, dist, doc.name_key, doc.id, spec), doc, tier, dist,
                     first, skill_match, spec)
                )  # fmt: skip
        ranked.sort()  # keys are unique (the doctor's id ends them): rows never tie
        shown = [self._detail(r, mt_ambiguous and r[1].id in mt) for r in ranked[: self.q.limit]]
        beyond_list: list[DoctorHit] = []
        if with_slots == 0:
            beyond.sort(key=lambda r: r[0])
            beyond_list = [self._detail(r, False) for r in beyond[: self.q.limit]]
        location: SearchLocation | None = None
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
            self.now, radius, shown, beyond_list, candidates, with_slots, location,
            self.warnings, self._cpts(loc),
        )  # fmt: skip

    def _cpts(self, loc: tuple[float, float, str | None] | None) -> list[CptsFound]:
        """The CPTS whose zone covers the patient's commune, each with its participating
        doctors (SAS participants attached to it), ranked as the main list."""
        out: list[CptsFound] = []
        for cid in (
            self.ix.cpts_of_commune.get(self.q.commune_insee, []) if self.q.commune_insee else []
        ):
            c = self.ix.cpts[cid]
            rows: list[_Row] = []
            for did in self.ix.by_structure.get(cid, set()):
                doc = self.ix.doctors[did]
                if not (doc.active and doc.sas) or not self._passes_filters(doc):
                    continue
                if self.q.profession and doc.profession_code != self.q.profession:
                    continue
                if doc.unavail and doc.absent_at(self.now_ts):
                    continue
                first = self._earliest(doc)
                dist = self._distance(doc, None) if loc is not None else None
                skill = len(self.preferred & doc.skills) if self.preferred else 0
                spec = (
                    specialty_match(self.q.specialty, doc.specialty_code, doc.skills)
                    if self.q.ranks_specialty
                    else 0
                )
                tier = TIER_SAS if first is not None else TIER_NONE
                key = (-spec, tier, -skill, first.ts if first else _INF,
                       dist if dist is not None else _INF, doc.name_key, doc.id)  # fmt: skip
                rows.append((key, doc, tier, dist, first, skill, spec))
            rows.sort(key=lambda r: r[0])
            out.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "snp_phone": c.snp_phone,
                    "national_id": c.national_id,
                    "communes": c.communes,
                    "participants": [self._participant(r) for r in rows[: self.q.limit]],
                }
            )
        return out

    def _participant(self, row: _Row) -> DoctorHit:
        """A CPTS participant: the main list's hit when he is in it (same slots and card,
        built once), with the CPTS block's tier."""
        shown = self._hits.get(row[1].id)
        return replace(shown, tier=row[2]) if shown is not None else self._detail(row, False)

    def _detail(self, row: _Row, ambiguous: bool) -> DoctorHit:
        _, doc, tier, dist, first, skill_match, spec = row
        absent = doc.absent_at(self.now_ts) if doc.unavail else None
        info: DoctorInfo = {
            **doc.info(),
            "absent_until": absent[0].isoformat() if absent else None,
            "absence_reason": absent[1] if absent else "",
        }
        hit = DoctorHit(
            doc.id, tier, dist, first.start if first else None, skill_match, info,
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
        hit.weekly_snp = self.ix.weekly_snp(doc.id)
        self._hits.setdefault(doc.id, hit)
        return hit


def _bbox(loc: tuple[float, float, str | None], radius: float) -> tuple[float, float, float, float]:
    """A box a little wider than the radius (degrees of latitude and longitude)."""
    dlat = radius / 110.5 + 0.01
    dlon = radius / (111.32 * max(0.05, math.cos(math.radians(loc[0])))) + 0.01
    return loc[0] - dlat, loc[0] + dlat, loc[1] - dlon, loc[1] + dlon


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
