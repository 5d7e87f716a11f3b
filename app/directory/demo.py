"""Fill the directory from the demo territory (resources/demo/territory.json).

Effecteurs, practices, structures and their free-text weekly availabilities come
from the file; on top, doctors whose software is interfaced publish extra slots and
"0/5" ranges over the next 72 h, drawn from a seeded generator (same ``now`` and
seed, same directory), with a few places already taken and one doctor on leave.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.directory.agenda import materialise_recurring, save_rules
from app.directory.freetext import parse_availability
from app.directory.models import (
    Effecteur,
    Practice,
    Slot,
    Structure,
    Unavailability,
    bump_revision,
)
from app.directory.vocab import HORIZON, PARIS, Visibility
from app.geo import default_index

DEMO_SEED = 17


def seed_directory_demo(
    session: Session, territory: dict[str, Any], now: datetime, seed: int = DEMO_SEED
) -> bool:
    """Idempotent: loads the demo directory into an empty one. Returns True if loaded."""
    if session.scalar(select(Effecteur.id).limit(1)) is not None:
        return False
    rng = random.Random(seed)
    rev = bump_revision(session)
    communes = {c["insee"]: c for c in territory.get("communes", [])}
    geo = default_index()
    structures: dict[str, Structure] = {}
    for s in territory.get("structures", []):
        served = [i for i, c in communes.items() if c.get("sector") == s.get("sector")]
        structures[s["name"]] = Structure(
            kind=s["kind"],
            name=s["name"],
            sector=s.get("sector", ""),
            snp_phone=s.get("snp_phone", ""),
            address=s.get("address", ""),
            commune_insee=s.get("commune_insee", ""),
            communes=served if s["kind"] == "CPTS" else [s.get("commune_insee", "")],
            rev=rev,
        )
    session.add_all(structures.values())
    session.flush()
    effecteurs: list[Effecteur] = []
    for raw in territory.get("effecteurs", []):
        practice = raw.get("practice") or {}
        insee = practice.get("commune_insee", "")
        c = communes.get(insee) or {}
        g = geo.by_insee(insee) if insee else None
        e = Effecteur(
            rpps=raw["rpps"],
            first_name=raw.get("first_name", ""),
            last_name=raw["last_name"],
            profession=raw.get("profession", "Médecin"),
            specialty=raw.get("specialty", "Médecine générale"),
            phone_direct=(raw.get("phones") or {}).get("direct", ""),
            phone_secretary=(raw.get("phones") or {}).get("secretary", ""),
            structure_id=structures[raw["structure"]].id
            if raw.get("structure") in structures
            else None,
            sas_participant=bool(raw.get("sas_participant")),
            mode=raw.get("mode", "individuel"),
            accepts_beyond_slots=bool(raw.get("accepts_beyond_slots")),
            agenda_software=raw.get("agenda_software") or "",
            agenda_level=raw.get("agenda_level", "none"),
            skills=list(raw.get("skills", [])),
            conditions=raw.get("conditions") or "",
            weekly_availability=list(raw.get("weekly_availability", [])),
            rev=rev,
            updated_at=now,
        )
        e.practices.append(
            Practice(
                name=practice.get("name", ""),
                address=practice.get("address", ""),
                commune_insee=insee,
                commune_name=c.get("name") or (g.name if g else ""),
                postal_code=(c.get("postal_codes") or [g.postal_code if g else ""])[0],
                lat=c.get("lat", g.lat if g else None),
                lon=c.get("lon", g.lon if g else None),
                agenda_software=raw.get("agenda_software") or "",
                agenda_level=raw.get("agenda_level", "none"),
            )
        )
        session.add(e)
        effecteurs.append(e)
    session.flush()
    for e in effecteurs:
        parsed = parse_availability(e.weekly_availability)
        save_rules(session, e, parsed.rules, rev)
    session.flush()
    materialise_recurring(session, now, now + HORIZON)
    _published_agendas(session, effecteurs, now, rng, rev)
    _leave(session, effecteurs, now, rng, rev)
    return True


def _published_agendas(
    session: Session, effecteurs: list[Effecteur], now: datetime, rng: random.Random, rev: int
) -> None:
    """Interfaced software publishes SNP-typed slots; CPTS doctors also offer ranges."""
    start_day = now.astimezone(PARIS).date()
    for e in effecteurs:
        if e.agenda_level == "none":
            continue
        for day_offset in range(4):
            day = start_day + timedelta(days=day_offset)
            if day.weekday() == 6 and e.mode != "SOS Médecins":
                continue
            for _ in range(rng.randint(0, 3)):
                hour = rng.randint(8, 18)
                minute = rng.choice((0, 15, 30, 45))
                local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
                start = local.astimezone(now.tzinfo)
                if not now < start < now + HORIZON:
                    continue
                ctype = rng.choices(("cabinet", "teleconsultation", "visite"), (8, 2, 1))[0]
                visibility = rng.choice(
                    (Visibility.SNP, Visibility.SNP, Visibility.PUBLIC, Visibility.PRO)
                )
                session.add(
                    Slot(
                        effecteur_id=e.id,
                        practice_id=e.practices[0].id,
                        start=start,
                        end=start + timedelta(minutes=15),
                        consultation_type=ctype,
                        capacity=1,
                        booked=int(rng.random() < 0.15),
                        is_range=False,
                        visibility=str(visibility),
                        source="demo",
                        status="open",
                        rev=rev,
                    )
                )
        if e.mode == "CPTS" and rng.random() < 0.5:
            day = start_day + timedelta(days=rng.randint(0, 2))
            local = datetime(day.year, day.month, day.day, 16, 45, tzinfo=PARIS)
            start = local.astimezone(now.tzinfo)
            if now < start < now + HORIZON:
                session.add(
                    Slot(
                        effecteur_id=e.id,
                        practice_id=e.practices[0].id,
                        start=start,
                        end=start + timedelta(minutes=75),
                        consultation_type="cabinet",
                        capacity=5,
                        booked=rng.randint(0, 2),
                        is_range=True,
                        visibility=str(Visibility.CPTS),
                        source="demo",
                        status="open",
                        rev=rev,
                    )
                )
    session.flush()


def _leave(
    session: Session, effecteurs: list[Effecteur], now: datetime, rng: random.Random, rev: int
) -> None:
    # A doctor (the draw among the doctors stays that of a demo without other professions).
    on_leave = rng.choice([e for e in effecteurs if e.profession == "Médecin"])
    session.add(
        Unavailability(
            effecteur_id=on_leave.id,
            start=now - timedelta(days=2),
            end=now + timedelta(days=5),
            reason="congés",
            rev=rev,
        )
    )
    session.flush()
