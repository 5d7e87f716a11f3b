"""Tables of the call-back workflow: the plan's targets, attempts, appointments, reminders.

The state tables say where a task stands; the ``events`` table (app.db.models) keeps
every attempt and outcome, written in the same transaction, and is what the
month's counts are computed from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, Payload


class CallbackTarget(Base):
    """One line of a task's plan: someone to call (a doctor, or a fallback)."""

    __tablename__ = "cb_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("osnp_tasks.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    effecteur_id: Mapped[int | None] = mapped_column(ForeignKey("dir_effecteurs.id"))
    name: Mapped[str] = mapped_column(String(255))
    phone_direct: Mapped[str] = mapped_column(String(32), default="")
    phone_secretary: Mapped[str] = mapped_column(String(32), default="")
    place: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("dir_slots.id", ondelete="SET NULL"))
    slot_start: Mapped[datetime | None]
    slot_type: Mapped[str] = mapped_column(String(24), default="")
    distance_km: Mapped[float | None] = mapped_column(Float)
    why: Mapped[str] = mapped_column(Text, default="")  # why it is in the plan, shown as is
    skip_reason: Mapped[str] = mapped_column(Text, default="")
    retry_at: Mapped[datetime | None]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_cb_targets_task", "task_id", "position"),)


class CallbackAttempt(Base):
    """One phone call to a target and what came of it."""

    __tablename__ = "cb_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("osnp_tasks.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("cb_targets.id"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    number: Mapped[str] = mapped_column(String(32), default="")
    call_ref: Mapped[str] = mapped_column(String(255), default="")
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    recording_path: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(String(16))
    refusal_reason: Mapped[str] = mapped_column(String(24), default="")
    call_back_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_cb_attempts_task", "task_id", "at"),)


class Appointment(Base):
    """The appointment a task ended with, followed to the end (honoured, no-show…)."""

    __tablename__ = "cb_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("osnp_tasks.id"), unique=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("cb_targets.id"))
    effecteur_id: Mapped[int | None] = mapped_column(ForeignKey("dir_effecteurs.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("dir_bookings.id"))
    outcome: Mapped[str] = mapped_column(String(24))
    doctor_name: Mapped[str] = mapped_column(String(255))
    is_treating_doctor: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime]
    place: Mapped[str] = mapped_column(Text, default="")
    consultation_type: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime]
    regulated_at: Mapped[datetime]  # when the regulating doctor decided (48 h / 24 h count)
    created_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class Reminder(Base):
    """A job for the hub's scheduler, kept here so it survives a restart.

    Written in the same transaction as the attempt that asks for it: an intent that
    fails leaves no reminder behind (a separate job store could not promise that).
    """

    __tablename__ = "cb_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[int] = mapped_column(ForeignKey("osnp_tasks.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("cb_targets.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    data: Mapped[Payload] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_cb_reminders_pending", "fired_at", "cancelled_at", "due_at"),
        Index("ix_cb_reminders_task", "task_id", "kind"),
    )
