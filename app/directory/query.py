"""What a slot search asks and what it answers, plus the ranking rules themselves.

The rules here are pure functions over plain values, shared by the in-memory engine
(``app.directory.engine``) and the SQL baseline of the benchmark, so both rank the
same way by construction; the property test checks the engine against an
independent brute force written from docs/directory.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from typing_extensions import TypedDict

from app.directory.protocol import (
    DoctorHitView,
    DoctorInfo,
    SearchDay,
    SearchFound,
    SearchLocation,
    SearchSlot,
)
from app.directory.vocab import BANDS, HORIZON, PAEDIATRIC_AGE, PARIS
from app.domain.enums import ConsultationType
from app.domain.professions import GENERAL_PRACTICE, MEDECIN, SPECIALTIES
from app.geo import normalize_name

TIER_MT, TIER_CONFRERE, TIER_SAS, TIER_OTHER, TIER_NONE = range(5)
TIER_LABELS = {
    TIER_MT: "Médecin traitant",
    TIER_CONFRERE: "Confrère du cabinet du médecin traitant",
    TIER_SAS: "Participant SAS avec créneaux",
    TIER_OTHER: "Autre médecin avec créneaux",
    TIER_NONE: "Sans créneau disponible",
}

PAEDIATRIC_SKILL = "pediatrie"
#: Words of the motif that make a skill welcome (the doctor comes first, nobody is hidden).
MOTIF_SKILLS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(plaie|coupure|suture|entaille)"), "sutures"),
    (re.compile(r"\b(entorse|trauma|chute|contusion|foulure|luxation)"), "petite traumatologie"),
    (re.compile(r"\b(palpitation|ecg|electrocardiogramme)"), "ecg"),
    (re.compile(r"\b(gyneco|contracept|grossesse|cystite)"), "gynecologie"),
)


def fold(text: str) -> str:
    return normalize_name(text or "")


def skill_key(skill: str) -> str:
    return fold(skill)


@dataclass(frozen=True)
class SearchQuery:
    """A search from a dossier (commune, age, motif, treating doctor) or typed freely."""

    commune_insee: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None  # None: the default of the department's density
    bands: tuple[str, ...] = ()  # empty: the whole 72 h
    types: tuple[ConsultationType, ...] = ()  # empty: all
    visibilities: tuple[str, ...] = ()  # empty: all
    skills: tuple[str, ...] = ()  # required skills
    patient_age: int | None = None
    motif: str = ""
    treating_doctor: str = ""  # name ("Dr Moinard") or RPPS
    text: str = ""  # free words: name, RPPS, structure, practice, skill
    limit: int = 30
    slots_per_day: int = 4
    #: The structures (CPTS) the searching desk works for: a CPTS-reserved slot is
    #: shown only to its CPTS's desks. None: no restriction (the supervisor).
    structures: frozenset[int] | None = None
    #: Whom the regulating doctor wants (app.domain.professions codes): a profession
    #: filters ("" : every profession); a specialty other than general practice ranks
    #: its specialists first (the others follow), and for another profession than
    #: médecin the treating doctor and his practice are not searched for.
    profession: str = ""
    specialty: str = ""

    @property
    def ranks_specialty(self) -> bool:
        return bool(self.specialty) and self.specialty != GENERAL_PRACTICE

    @property
    def follows_treating_doctor(self) -> bool:
        return self.profession in ("", MEDECIN)

    def windows(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """The [start, end) intervals of slot start times the bands allow, merged."""
        if not self.bands:
            return [(now, now + HORIZON)]
        spans = sorted(BANDS[b] for b in self.bands)
        merged: list[list[int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return [(now + timedelta(hours=lo), now + timedelta(hours=hi)) for lo, hi in merged]

    def preferred_skills(self) -> frozenset[str]:
        wanted = set()
        if self.patient_age is not None and self.patient_age < PAEDIATRIC_AGE:
            wanted.add(PAEDIATRIC_SKILL)
        motif = fold(self.motif)
        for pattern, skill in MOTIF_SKILLS:
            if pattern.search(motif):
                wanted.add(skill_key(skill))
        return frozenset(wanted)

    def text_terms(self) -> list[str]:
        return fold(self.text).split()


def doctor_skills(skills: list[str] | tuple[str, ...], specialty: str) -> frozenset[str]:
    """Skills as matched: folded, with paediatrics implied by the specialty."""
    out = {skill_key(s) for s in skills}
    if fold(specialty).startswith("pediatr"):
        out.add(PAEDIATRIC_SKILL)
    return frozenset(out)


def specialty_match(wanted: str, specialty: str, skills: frozenset[str]) -> int:
    """2: the effecteur's specialty (a TRE-R38 code) is the one wanted; 1: it is among
    his skills (savoir-faire, by code or label); 0: neither."""
    if specialty == wanted:
        return 2
    if fold(wanted) in skills or fold(SPECIALTIES.get(wanted, wanted)) in skills:
        return 1
    return 0


def rank_key(
    tier: int,
    skill_match: int,
    earliest: datetime | None,
    distance: float | None,
    name_key: str,
    effecteur_id: int,
    specialty_rank: int = 0,
) -> tuple[Any, ...]:
    """Order of the results (docs/directory.md, "Search ranking")."""
    return (
        -specialty_rank,
        tier,
        -skill_match,
        earliest.timestamp() if earliest else float("inf"),
        distance if distance is not None else float("inf"),
        name_key,
        effecteur_id,
    )


def beyond_key(
    skill_match: int,
    distance: float | None,
    name_key: str,
    effecteur_id: int,
    specialty_rank: int = 0,
) -> tuple[Any, ...]:
    return (
        -specialty_rank,
        -skill_match,
        distance if distance is not None else float("inf"),
        name_key,
        effecteur_id,
    )


_RPPS = re.compile(r"\b(\d{11})\b")
_TITLES = {"dr", "docteur", "doc", "medecin", "pr", "professeur", "mt"}


def parse_treating_doctor(text: str) -> tuple[str | None, list[str]]:
    """(RPPS, folded name words) from what the dossier says about the MT."""
    match = _RPPS.search(text or "")
    words = [w for w in fold(text).split() if w not in _TITLES and not w.isdigit()]
    return (match.group(1) if match else None), words


def days_shown(now: datetime) -> list[date]:
    """Local dates from today to the end of the horizon ("Aujourd'hui", "Demain"…)."""
    first = now.astimezone(PARIS).date()
    last = (now + HORIZON).astimezone(PARIS).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class SlotHit:
    slot_id: int
    start: datetime
    end: datetime
    consultation_type: str
    capacity: int
    booked: int
    is_range: bool
    visibility: str
    practice_id: int | None
    #: An editor's slot: « Réserver » opens this page (origin=sas) and waits for the
    #: editor's appointment; None: booked here (and phoned when not end-to-end).
    booking_page: str | None = None

    def to_dict(self) -> SearchSlot:
        return {
            "id": self.slot_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "type": self.consultation_type,
            "capacity": self.capacity,
            "booked": self.booked,
            "is_range": self.is_range,
            "places": f"{self.booked}/{self.capacity}" if self.is_range else "",
            "visibility": self.visibility,
            "practice_id": self.practice_id,
            "booking_page": self.booking_page,
        }


@dataclass
class DoctorHit:
    effecteur_id: int
    tier: int
    distance_km: float | None
    earliest: datetime | None
    skill_match: int
    info: DoctorInfo
    mt_ambiguous: bool = False
    specialty_match: int = 0  # see ``specialty_match``; 0 when no specialty is asked
    slot_count: int = 0
    days: list[SearchDay] = field(default_factory=list)
    weekly_snp: int | None = None

    def to_dict(self) -> DoctorHitView:
        return {
            "effecteur_id": self.effecteur_id,
            "tier": self.tier,
            "tier_label": TIER_LABELS[self.tier],
            "distance_km": round(self.distance_km, 1) if self.distance_km is not None else None,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "skill_match": self.skill_match,
            "specialty_match": self.specialty_match,
            "mt_ambiguous": self.mt_ambiguous,
            "slot_count": self.slot_count,
            "days": self.days,
            "weekly_snp": self.weekly_snp,
            **self.info,
        }


class CptsFound(TypedDict):
    """A CPTS whose zone covers the patient's commune, with its participating doctors
    (the wire's ``CptsHit`` once they are views)."""

    id: int
    name: str
    snp_phone: str
    national_id: str
    communes: int
    participants: list[DoctorHit]


@dataclass
class SearchResult:
    at: datetime
    radius_km: float | None
    doctors: list[DoctorHit]
    beyond_slots: list[DoctorHit]  # "orientation hors disponibilité", when nothing fits
    candidates: int  # doctors considered (in radius and filters)
    with_slots: int
    location: SearchLocation | None = None
    warnings: list[str] = field(default_factory=list)
    #: The CPTS whose ROR intervention zone covers the patient's commune: shown first.
    cpts: list[CptsFound] = field(default_factory=list)

    def to_dict(self) -> SearchFound:
        return {
            "at": self.at.isoformat(),
            "radius_km": self.radius_km,
            "doctors": [d.to_dict() for d in self.doctors],
            "beyond_slots": [d.to_dict() for d in self.beyond_slots],
            "candidates": self.candidates,
            "with_slots": self.with_slots,
            "location": self.location,
            "warnings": self.warnings,
            "cpts": [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "snp_phone": c["snp_phone"],
                    "national_id": c["national_id"],
                    "communes": c["communes"],
                    "participants": [p.to_dict() for p in c["participants"]],
                }
                for c in self.cpts
            ],
        }
