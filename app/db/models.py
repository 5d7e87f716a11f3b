"""SQLAlchemy 2 models of the regulation flow.

State tables (calls, dossiers, tasks) hold the current picture; ``events`` holds
every change in order, and is what statistics and timelines are computed from.
Both are written in the same transaction by the hub's single writer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import UTCDateTime, utcnow

Payload = dict[str, Any]


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, Payload: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The professional's national identifier (8 + RPPS, 0 + ADELI): what Pro Santé
    #: Connect proves; set by an administrator, never from PSC's claims.
    national_id: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)
    #: The national SAS platform's identifier of an account without a national one (an
    #: ARM, an OSNP): how an appointment the platform or an editor sends names them.
    platform_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    desk: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    last_active_at: Mapped[datetime | None]
    #: Why it ended: logged_out, idle, shift, disabled, revoked (empty while it lasts).
    ended_reason: Mapped[str] = mapped_column(String(16), default="", server_default="")
    #: How the login was proven: password, psc, password_fallback (PSC unreachable).
    auth: Mapped[str] = mapped_column(String(24), default="password", server_default="password")
    #: The identifier PSC proved (psc), or the account's at login.
    national_id: Mapped[str] = mapped_column(String(16), default="", server_default="")
    #: The reason typed for a password login while PSC was unreachable.
    fallback_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")

    user: Mapped[User] = relationship(lazy="joined")


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_ref: Mapped[str] = mapped_column(String(255), unique=True)  # SIP Call-ID
    line: Mapped[str] = mapped_column(String(16))
    caller: Mapped[str] = mapped_column(String(64), default="")
    offered_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str] = mapped_column(String(32), default="")
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    desks_rung: Mapped[int] = mapped_column(Integer, default=0)
    recording_path: Mapped[str] = mapped_column(Text, default="")


class CallRing(Base):
    """One desk (its account) a call rang: only these, or the holder, may end it."""

    __tablename__ = "call_rings"

    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    rung_at: Mapped[datetime]


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    line: Mapped[str] = mapped_column(String(16))
    caller_number: Mapped[str] = mapped_column(String(64), default="")

    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(4))
    track: Mapped[str | None] = mapped_column(String(8))
    queue: Mapped[str | None] = mapped_column(String(16))
    reflex: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    ringing_at: Mapped[datetime | None]
    answered_at: Mapped[datetime]
    qualified_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    taken_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient_last_name: Mapped[str] = mapped_column(String(128), default="")
    patient_first_name: Mapped[str] = mapped_column(String(128), default="")
    patient_sex: Mapped[str] = mapped_column(String(1), default="")
    patient_age: Mapped[int | None] = mapped_column(Integer)
    patient_birth_date: Mapped[date | None] = mapped_column(Date)
    callback_number: Mapped[str] = mapped_column(String(64), default="")
    commune_insee: Mapped[str] = mapped_column(String(5), default="")
    commune_name: Mapped[str] = mapped_column(String(128), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    motif: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    treating_doctor: Mapped[str] = mapped_column(String(255), default="")

    decision: Mapped[str | None] = mapped_column(String(16))
    care_level: Mapped[str | None] = mapped_column(String(4))
    filiere: Mapped[str | None] = mapped_column(String(16))
    orientation: Mapped[str | None] = mapped_column(String(24))
    consultation_type: Mapped[str | None] = mapped_column(String(24))
    means: Mapped[str | None] = mapped_column(String(16))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The deciding doctor's national identifier and how their session was proven.
    decided_national_id: Mapped[str | None] = mapped_column(String(16))
    decided_auth: Mapped[str | None] = mapped_column(String(24))
    close_reason: Mapped[str] = mapped_column(Text, default="")

    # Not eagerly joined: views take user names from the hub's cache (hot path).
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="select")

    __table_args__ = (
        Index("ix_dossiers_status_queue", "status", "queue"),
        Index("ix_dossiers_owner", "owner_id"),
    )


class OsnpTask(Base):
    __tablename__ = "osnp_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    consultation_type: Mapped[str] = mapped_column(String(24))
    # Whom the regulating doctor wants the patient to see (app.domain.professions codes):
    # TRE-G15 profession, TRE-R38 specialty ("" for professions other than médecin).
    profession: Mapped[str] = mapped_column(String(8), default="10", server_default="10")
    specialty: Mapped[str] = mapped_column(String(8), default="SM54", server_default="SM54")
    created_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(24))
    appointment_with: Mapped[str] = mapped_column(String(255), default="")
    appointment_at: Mapped[datetime | None]
    appointment_place: Mapped[str] = mapped_column(Text, default="")
    no_solution_reason: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")

    dossier: Mapped[Dossier] = relationship(lazy="joined", innerjoin=True)
    owner: Mapped[User | None] = relationship(lazy="select")


class Event(Base):
    """One thing that happened, in hub order. Never updated; deleted only by the retention
    purge, with its dossier, once the dossier's period is over (app.retention)."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(48))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("osnp_tasks.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    data: Mapped[Payload] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_events_dossier", "dossier_id", "seq"),
        Index("ix_events_type_at", "type", "at"),
    )


class Setting(Base):
    """Small key/value store: demo flag, DRM counters, retention settings."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Commune(Base):
    """Communes of the territory served (loaded from the demo or the administrator)."""

    __tablename__ = "communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    postal_codes: Mapped[str] = mapped_column(String(64), default="")  # space-separated
    sector: Mapped[str] = mapped_column(String(16), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
