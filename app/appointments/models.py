"""Appointments received from agenda editors (and later the national platform), and the
journal of every feedback message, accepted or refused."""

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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base
from app.db.types import utcnow


class Appointment(Base):
    """One appointment as its source knows it, by the source's own identifier."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: editor (FHIR INT_R03) or platform (RS-SAS-RDV through the Hub Santé).
    source: Mapped[str] = mapped_column(String(16))
    #: The editor's name as configured (its certificate), or the platform's sender.
    sender: Mapped[str] = mapped_column(String(64))
    identifier_system: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime]
    end: Mapped[datetime]
    regulator_id: Mapped[str] = mapped_column(String(64))
    regulator_national: Mapped[bool] = mapped_column(Boolean)
    effecteur_national_id: Mapped[str] = mapped_column(String(16))
    effecteur_id: Mapped[int | None] = mapped_column(ForeignKey("dir_effecteurs.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("dir_bookings.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Bumped by every change that took effect (a replay leaves it as it was).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # -- as the national platform names them (RS-SAS-RDV, migration 0021) ---------------
    #: The practitioner's name as sent (the directory's when it knows the RPPS).
    practitioner_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    #: The structure (FINESS with "1" or SIRET with "3"), for an appointment with no
    #: practitioner yet (a structure's agenda) or beside one.
    organization_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    organization_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    regulator_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    regulator_email: Mapped[str] = mapped_column(String(255), default="", server_default="")
    #: PS, SOS, PDM, CPTS, CDS, MSP (RS-SAS-RDV ``orientationCategory``), or empty.
    orientation_category: Mapped[str] = mapped_column(String(8), default="", server_default="")
    #: False when the source gave no end (RS-SAS-RDV's ``end`` is optional): ``end`` then
    #: holds ``start`` and the views say the end is unknown.
    end_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: When the regulator booked it (RS-SAS-RDV ``created``).
    booked_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint(
            "source", "identifier_system", "identifier", name="uq_appointment_source_id"
        ),
        Index("ix_appointments_effecteur_start", "effecteur_id", "start"),
    )


class AppointmentMessage(Base):
    """Every feedback received, with what became of it: the supervisor sees the refusals."""

    __tablename__ = "appointment_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(128))
    #: The appointment's identifier when it could be read, else empty.
    identifier: Mapped[str] = mapped_column(String(255), default="")
    #: HTTP-like answer: 201 created, 200 applied or replayed, 4xx refused.
    answer: Mapped[int] = mapped_column(Integer)
    #: created, updated, replayed, refused.
    outcome: Mapped[str] = mapped_column(String(16))
    issues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(Text, default="")
