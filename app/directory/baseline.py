"""The benchmark's reference: a straightforward search, one SQL query for the doctors
and slots of the bounding box, then filtering and sorting in Python with the same
rules (app.directory.query). Kept to show what the in-memory engine saves; the
benchmark checks both give the same ranking."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from app.directory import geo
from app.directory.engine import PAST_KEPT, indexed
from app.directory.models import Effecteur, Practice, Slot, Unavailability
from app.directory.query import (
    TIER_CONFRERE,
    TIER_MT,
    TIER_NONE,
    TIER_OTHER,
    TIER_SAS,
    SearchQuery,
    doctor_skills,
    fold,
    parse_treating_doctor,
    rank_key,
    specialty_match,
)
from app.domain.professions import wanted_of_effecteur
from app.geo import distance_km


def baseline_search(
    s: Session, q: SearchQuery, now: datetime
) -> list[tuple[int, int, datetime | None]]:
    """(effecteur id, tier, earliest slot) of the first ``q.limit`` doctors."""
    loc = geo.commune_position(q.commune_insee) if q.commune_insee else None
    if q.lat is not None and q.lon is not None:
        loc = (q.lat, q.lon, "")
    radius = q.radius_km or (geo.default_radius_km(loc[2]) if loc else None)
    windows = q.windows(now)
    doctor = q.treating_doctor if q.follows_treating_doctor else ""
    rpps, words = parse_treating_doctor(doctor)
    held = indexed(now - PAST_KEPT)  # what the engine holds: the same candidates
    mt = _treating_doctors(s, rpps, words, held)
    doctors = _candidates(s, loc, radius, windows, mt, held, now)
    leaves = _leaves(s, now)
    mt_keys = {(p[0], p[1]) for i in mt if i in doctors for p in doctors[i]["places"]}
    preferred = q.preferred_skills()
    required = {fold(x) for x in q.skills}
    ranked = []
    wanted_spec = q.specialty if q.ranks_specialty else ""
    for eid, d in doctors.items():
        if q.profession and d["is"].profession != q.profession:
            continue
        conf = eid not in mt and any((p[0], p[1]) in mt_keys for p in d["places"])
        special = eid in mt or conf
        dists = [
            distance_km((loc[0], loc[1]), (p[2], p[3]))
            for p in d["places"]
            if loc is not None and p[2] is not None
        ]
        dist = min(dists) if dists else None
        away = any(a <= now < b for a, b in leaves[eid])
        if not special and (
            not d["listed"]
            or away
            or not required <= d["skills"]
            or (radius is not None and loc is not None and (dist is None or dist > radius))
        ):
            continue
        ok = sorted(
            st
            for st, en, ct, vis in set(d["slots"])
            if any(lo <= st < hi for lo, hi in windows)
            and (not q.types or ct in {str(t) for t in q.types})
            and (not q.visibilities or vis in q.visibilities)
            and not any(st < b and en > a for a, b in leaves[eid])
        )
        earliest = ok[0] if ok else None
        tier = (
            TIER_MT
            if eid in mt
            else TIER_CONFRERE
            if conf
            else TIER_NONE
            if earliest is None
            else TIER_SAS
            if d["sas"]
            else TIER_OTHER
        )
        match = len(preferred & d["skills"])
        spec = specialty_match(wanted_spec, d["is"].specialty, d["skills"]) if wanted_spec else 0
        ranked.append(
            (
                rank_key(tier, match, earliest, dist, fold(d["last"]), eid, spec),
                (eid, tier, earliest),
            )
        )
    ranked.sort(key=lambda r: r[0])
    return [r[1] for r in ranked[: q.limit]]


def _treating_doctors(s: Session, rpps: str | None, words: list[str], held: Any) -> set[int]:
    """The treating doctor's ids: by RPPS, else by names in the words (first names
    narrowing several alike)."""
    mt: set[int] = set()
    if rpps:
        mt = set(s.scalars(select(Effecteur.id).where(Effecteur.rpps == rpps, held)))
    if not mt and words:
        rows = s.execute(
            select(Effecteur.id, Effecteur.last_name, Effecteur.first_name).where(
                Effecteur.active.is_(True), held
            )
        ).all()
        text = f" {' '.join(words)} "
        mt = {i for i, last, _ in rows if f" {fold(last)} " in text}
        if len(mt) > 1:
            narrowed = {
                i for i, _, first in rows if i in mt and fold(first) and f" {fold(first)} " in text
            }
            mt = narrowed or mt
    return mt


def _candidates(
    s: Session,
    loc: tuple[float, float, str] | None,
    radius: float | None,
    windows: list[tuple[datetime, datetime]],
    mt: set[int],
    held: Any,
    now: datetime,
) -> dict[int, dict[str, Any]]:
    """The active doctors in the radius's box (or the treating doctor's practice), their
    places and their free slots in the windows, in one SQL query."""
    where = _in_reach(loc, radius, mt, held)
    slot_on = and_(
        Slot.effecteur_id == Effecteur.id,
        Slot.status == "open",
        Slot.booked < Slot.capacity,
        Slot.start >= windows[0][0],
        Slot.start < windows[-1][1],
    )
    own = aliased(Slot)
    stmt = (
        select(
            Effecteur.id,
            Effecteur.last_name,
            Effecteur.sas_participant,
            Effecteur.skills,
            Effecteur.specialty,
            Practice.address,
            Practice.commune_insee,
            Practice.lat,
            Practice.lon,
            Slot.start,
            Slot.end,
            Slot.consultation_type,
            Slot.visibility,
            # As the engine's ``listed``: national-file rows the SAS knows nothing of are
            # found as treating doctor or confrère only.
            or_(
                Effecteur.source != "rpps",
                Effecteur.sas_participant.is_(True),
                Effecteur.accepts_beyond_slots.is_(True),
                exists()
                .where(
                    own.effecteur_id == Effecteur.id,
                    own.status == "open",
                    own.end > now - PAST_KEPT,
                )
                .correlate(Effecteur),
            ),
            Effecteur.profession,
        )
        .join(Practice, Practice.effecteur_id == Effecteur.id)
        .outerjoin(Slot, slot_on)
        .where(where)
    )
    doctors: dict[int, dict[str, Any]] = {}
    for row in s.execute(stmt):
        d = doctors.setdefault(
            row[0],
            {
                "last": row[1],
                "sas": row[2],
                "skills": doctor_skills(row[3] or [], row[4]),
                "is": wanted_of_effecteur(row[14], row[4]),
                "places": set(),
                "slots": [],
                "listed": bool(row[13]),
            },
        )
        d["places"].add((fold(row[5]), row[6], row[7], row[8]))
        if row[9] is not None:
            d["slots"].append((row[9], row[10], row[11], row[12]))
    return doctors


def _leaves(s: Session, now: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """The doctors' unavailabilities not yet over."""
    leaves: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for eid, a, b in s.execute(
        select(Unavailability.effecteur_id, Unavailability.start, Unavailability.end).where(
            Unavailability.end > now
        )
    ):
        leaves[eid].append((a, b))
    return leaves


def _in_reach(
    loc: tuple[float, float, str] | None, radius: float | None, mt: set[int], held: Any
) -> Any:
    """Active doctors the engine holds, in the radius's bounding box or practising where
    the treating doctor does."""
    where: Any = and_(Effecteur.active.is_(True), held)
    if loc is not None and radius is not None:
        dlat = radius / 110.5 + 0.01
        dlon = (
            radius
            / (111.32 * max(0.05, __import__("math").cos(__import__("math").radians(loc[0]))))
            + 0.01
        )
        box = and_(
            Practice.lat.between(loc[0] - dlat, loc[0] + dlat),
            Practice.lon.between(loc[1] - dlon, loc[1] + dlon),
        )
        mt_places = select(Practice.commune_insee).where(Practice.effecteur_id.in_(mt))
        where = and_(where, or_(box, Effecteur.id.in_(mt), Practice.commune_insee.in_(mt_places)))
    return where
