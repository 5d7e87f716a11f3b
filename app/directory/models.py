"""SQLAlchemy models of the care-offer directory: effecteurs, structures, slots, bookings.

Every write to the directory bumps ``DirectoryState.revision`` first and stamps the
rows it touches with the new value (``rev``): the in-memory search index reloads
only what changed since the revision it last saw. Taking the revision row first
also gives every directory writer the same lock order on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.db.models import Base
from app.db.types import utcnow


class DirectoryState(Base):
    """One row: the directory's change counter."""

    __tablename__ = "directory_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class Structure(Base):
    """A CPTS, MSP, SOS Médecins association or centre de santé."""

    __tablename__ = "dir_structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(255), unique=True)
    sector: Mapped[str] = mapped_column(String(16), default="")
    snp_phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    commune_insee: Mapped[str] = mapped_column(String(5), default="")
    communes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # INSEE codes served
    #: FINESS (9 characters) or, without one, the ROR's identifier: how the ROR and the
    #: agenda editors' FHIR Organizations name this structure.
    national_id: Mapped[str | None] = mapped_column(String(64))
    rev: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("uq_dir_structures_national_id", "national_id", unique=True),)


class Effecteur(Base):
    __tablename__ = "dir_effecteurs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str] = mapped_column(String(128))
    profession: Mapped[str] = mapped_column(String(64), default="Médecin")
    specialty: Mapped[str] = mapped_column(String(128), default="Médecine générale")
    phone_direct: Mapped[str] = mapped_column(String(32), default="")
    phone_secretary: Mapped[str] = mapped_column(String(32), default="")
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("dir_structures.id"))
    sas_participant: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str] = mapped_column(String(24), default="individuel")
    accepts_beyond_slots: Mapped[bool] = mapped_column(Boolean, default=False)
    agenda_software: Mapped[str] = mapped_column(String(64), default="")
    agenda_level: Mapped[str] = mapped_column(String(16), default="none")
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    conditions: Mapped[str] = mapped_column(Text, default="")
    weekly_availability: Mapped[list[Any]] = mapped_column(JSON, default=list)  # as sent
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "Docteur", "Madame"… as the national file (RPPS) writes it.
    civility: Mapped[str] = mapped_column(String(32), default="", server_default="")
    #: "rpps" once the national extraction carries this effecteur: a later extraction
    #: without them deactivates them (imports/rpps.py); "" for the SAS's own rows.
    source: Mapped[str] = mapped_column(String(16), default="", server_default="")
    rev: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    structure: Mapped[Structure | None] = relationship(lazy="joined")
    practices: Mapped[list[Practice]] = relationship(
        back_populates="effecteur",
        lazy="selectin",
        order_by="Practice.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index("ix_dir_effecteurs_rev", "rev"),
        Index("ix_dir_effecteurs_source", "source"),
    )

    @property
    def display_name(self) -> str:
        return f"Dr {self.first_name} {self.last_name}".replace("  ", " ").strip()


class Practice(Base):
    """A place where the effecteur consults, with its commune and coordinates."""

    __tablename__ = "dir_practices"

    id: Mapped[int] = mapped_column(primary_key=True)
    effecteur_id: Mapped[int] = mapped_column(ForeignKey("dir_effecteurs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    commune_insee: Mapped[str] = mapped_column(String(5), default="")
    commune_name: Mapped[str] = mapped_column(String(128), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    #: The agenda connected to the SAS at this place: editor, and level (vocab.AGENDA_LEVELS;
    #: "" = the effecteur's).
    agenda_software: Mapped[str] = mapped_column(String(64), default="")
    agenda_level: Mapped[str] = mapped_column(String(16), default="")
    phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    phone2: Mapped[str] = mapped_column(String(32), default="", server_default="")
    siret: Mapped[str] = mapped_column(String(14), default="", server_default="")
    finess: Mapped[str] = mapped_column(String(9), default="", server_default="")
    #: The national file's site ("Identifiant technique de la structure"): a later
    #: extraction updates the same place.
    site_ref: Mapped[str] = mapped_column(String(64), default="", server_default="")
    source: Mapped[str] = mapped_column(String(16), default="", server_default="")  # "rpps"
    rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    effecteur: Mapped[Effecteur] = relationship(back_populates="practices")

    __table_args__ = (Index("ix_dir_practices_effecteur", "effecteur_id"),)


class Slot(Base):
    """A single slot (capacity 1) or a multi-patient range ("0/5": capacity 5)."""

    __tablename__ = "dir_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    effecteur_id: Mapped[int] = mapped_column(ForeignKey("dir_effecteurs.id", ondelete="CASCADE"))
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("dir_practices.id", ondelete="SET NULL")
    )
    start: Mapped[datetime]
    end: Mapped[datetime]
    consultation_type: Mapped[str] = mapped_column(String(24), default="cabinet")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    is_range: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[str] = mapped_column(String(8), default="SNP")
    source: Mapped[str] = mapped_column(String(16), default="manual")
    source_ref: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="open")
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The CPTS a slot is offered through (FHIR HealthcareService → Organization): a
    #: CPTS-visibility slot is shown only to that structure's desks.
    structure_id: Mapped[int | None] = mapped_column(
        ForeignKey("dir_structures.id", ondelete="SET NULL")
    )
    rev: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_dir_slots_source_ref"),
        Index("ix_dir_slots_start", "start"),
        Index("ix_dir_slots_effecteur_start", "effecteur_id", "start"),
        Index("ix_dir_slots_rev", "rev"),
    )


class Unavailability(Base):
    """A period when the effecteur takes nobody (holiday, training…)."""

    __tablename__ = "dir_unavailabilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    effecteur_id: Mapped[int] = mapped_column(ForeignKey("dir_effecteurs.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    rev: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_dir_unavail_effecteur", "effecteur_id"),
        Index("ix_dir_unavail_rev", "rev"),
    )


class RecurringAvailability(Base):
    """A weekly availability ("du lundi au jeudi de 11h45 à 12h15"), read from free text
    or typed by the CPTS manager; turned into slots over the horizon."""

    __tablename__ = "dir_recurring"

    id: Mapped[int] = mapped_column(primary_key=True)
    effecteur_id: Mapped[int] = mapped_column(ForeignKey("dir_effecteurs.id", ondelete="CASCADE"))
    weekdays: Mapped[list[Any]] = mapped_column(JSON)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)  # Paris local time
    end_minute: Mapped[int] = mapped_column(Integer)
    consultation_type: Mapped[str] = mapped_column(String(24), default="cabinet")
    capacity: Mapped[int] = mapped_column(Integer, default=1)  # of the range (slot_minutes 0)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)  # 0: one multi-patient range
    every_other_week: Mapped[bool] = mapped_column(Boolean, default=False)
    source_text: Mapped[str] = mapped_column(Text, default="")
    rev: Mapped[int] = mapped_column(Integer, default=0)


class StructureMember(Base):
    """A desk user working for a structure (a CPTS's own regulation desk): they see
    the slots that CPTS reserves to itself."""

    __tablename__ = "dir_structure_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    structure_id: Mapped[int] = mapped_column(
        ForeignKey("dir_structures.id", ondelete="CASCADE"), primary_key=True
    )


class Booking(Base):
    """A place taken for a patient: on a slot, or "hors disponibilité" (no slot)."""

    __tablename__ = "dir_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("dir_slots.id", ondelete="SET NULL"))
    effecteur_id: Mapped[int] = mapped_column(ForeignKey("dir_effecteurs.id"))
    appointment_at: Mapped[datetime]
    consultation_type: Mapped[str] = mapped_column(String(24), default="cabinet")
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str] = mapped_column(Text, default="")
    snp: Mapped[bool] = mapped_column(Boolean, default=True)  # counts toward the weekly cap
    requires_call: Mapped[bool] = mapped_column(Boolean, default=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: "" a place of our own; otherwise booked on the editor's page (app.directory.
    #: editor_booking): "pending" until the editor's appointment says "booked".
    agenda_status: Mapped[str] = mapped_column(String(16), default="", server_default="")
    #: The editor's page the OSNP was sent to (with origin=sas, no patient data).
    booking_page: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: When the OSNP was told a pending booking is still unconfirmed.
    reminded_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_dir_bookings_effecteur_at", "effecteur_id", "appointment_at"),
        Index("ix_dir_bookings_slot", "slot_id"),
        Index("ix_dir_bookings_agenda_pending", "agenda_status", "effecteur_id"),
    )


def bump_revision(session: Session) -> int:
    """Take the directory's write turn and return the new revision.

    Call it first in every unit of work that writes the directory: the UPDATE locks
    the counter row (PostgreSQL) or takes SQLite's write lock, so all directory
    writers queue in the same order and none can deadlock on another.
    """
    result = session.execute(
        update(DirectoryState)
        .where(DirectoryState.id == 1)
        .values(revision=DirectoryState.revision + 1)
        .returning(DirectoryState.revision)
    )
    value = result.scalar()
    if value is None:
        session.add(DirectoryState(id=1, revision=1))
        session.flush()
        return 1
    return int(value)


def current_revision(session: Session) -> int:
    return int(session.scalar(select(DirectoryState.revision).where(DirectoryState.id == 1)) or 0)
