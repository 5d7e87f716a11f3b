"""Build small directories by hand, so each test states the data it ranks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.directory.models import Effecteur, Practice, Slot, Unavailability, bump_revision

LA_ROCHELLE = (46.16308, -1.15222)
AYTRE = (46.13417, -1.11826)  # ~4 km
SURGERES = (46.10820, -0.75148)  # ~31 km


def doctor(
    s: Session,
    rpps: str,
    last: str,
    *,
    first: str = "",
    at: tuple[float, float] = LA_ROCHELLE,
    sas: bool = True,
    beyond: bool = False,
    skills: list[str] | None = None,
    specialty: str = "Médecine générale",
    profession: str = "Médecin",
    address: str = "1 rue du Port",
    insee: str = "17300",
    agenda_level: str = "end_to_end",
) -> Effecteur:
    rev = bump_revision(s)
    e = Effecteur(
        rpps=rpps,
        first_name=first,
        last_name=last,
        specialty=specialty,
        profession=profession,
        sas_participant=sas,
        accepts_beyond_slots=beyond,
        skills=skills or [],
        agenda_level=agenda_level,
        phone_direct="0600000000",
        rev=rev,
    )
    e.practices.append(
        Practice(
            name="Cabinet",
            address=address,
            commune_insee=insee,
            commune_name="",
            lat=at[0],
            lon=at[1],
        )
    )
    s.add(e)
    s.flush()
    return e


def slot(
    s: Session,
    e: Effecteur,
    start: datetime,
    *,
    minutes: int = 15,
    type_: str = "cabinet",
    capacity: int = 1,
    booked: int = 0,
    visibility: str = "SNP",
) -> Slot:
    rev = bump_revision(s)
    x = Slot(
        effecteur_id=e.id,
        practice_id=e.practices[0].id,
        start=start,
        end=start + timedelta(minutes=minutes),
        consultation_type=type_,
        capacity=capacity,
        booked=booked,
        is_range=capacity > 1,
        visibility=visibility,
        source="manual",
        status="open",
        rev=rev,
    )
    s.add(x)
    s.flush()
    return x


def leave(s: Session, e: Effecteur, start: datetime, end: datetime) -> Unavailability:
    rev = bump_revision(s)
    e.rev = rev
    u = Unavailability(effecteur_id=e.id, start=start, end=end, reason="congés", rev=rev)
    s.add(u)
    s.flush()
    return u
