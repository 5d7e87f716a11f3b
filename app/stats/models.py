"""Statistics facts kept in step with the event log: one narrow row per call, dossier,
OSNP search, booking and call-back appointment.

Written by the projector (``app.stats.projection``) in the transaction that writes
the events, and by the rebuild (migration 0004, ``sasdesk stats rebuild``); both fold
events with ``app.stats.fold``. Derived data: no foreign keys, so a rebuild can empty
and refill them in any order. Each table is indexed on the instant a period selects
it by.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base


class StatCall(Base):
    __tablename__ = "stat_calls"

    call_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    offered_at: Mapped[datetime]
    line: Mapped[str] = mapped_column(String(16), default="")
    answered_at: Mapped[datetime | None]
    wait_seconds: Mapped[float | None]
    answered_by: Mapped[int | None]
    ended_at: Mapped[datetime | None]
    abandoned: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_stat_calls_offered", "offered_at"),)


class StatDossier(Base):
    __tablename__ = "stat_dossiers"

    dossier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    opened_at: Mapped[datetime]
    call_id: Mapped[int | None]
    line: Mapped[str] = mapped_column(String(16), default="")
    commune: Mapped[str] = mapped_column(String(8), default="")
    priority: Mapped[str | None] = mapped_column(String(8))
    track: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(24))
    orientation: Mapped[str | None] = mapped_column(String(32))
    moves: Mapped[int] = mapped_column(default=0)
    profession: Mapped[str | None] = mapped_column(String(8))
    specialty: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (Index("ix_stat_dossiers_opened", "opened_at"),)


class StatTask(Base):
    __tablename__ = "stat_tasks"

    task_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dossier_id: Mapped[int]
    created_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(24))
    no_solution_reason: Mapped[str | None] = mapped_column(String(32))
    appointment_at: Mapped[datetime | None]
    seconds_to_outcome: Mapped[float | None]
    reopens: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_stat_tasks_created", "created_at"),
        Index("ix_stat_tasks_closed", "closed_at"),
    )


class StatBooking(Base):
    __tablename__ = "stat_bookings"

    booking_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    effecteur_id: Mapped[int]
    slot_id: Mapped[int | None]
    dossier_id: Mapped[int | None]
    appointment_at: Mapped[datetime]
    booked_at: Mapped[datetime]
    released_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_stat_bookings_booked", "booked_at"),)


class StatAppointment(Base):
    """A call-back appointment and where it stands (booked … honoured, no-show)."""

    __tablename__ = "stat_appointments"

    appointment_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    task_id: Mapped[int | None]
    dossier_id: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(24))
    appointment_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="BOOKED")
    status_at: Mapped[datetime]

    __table_args__ = (Index("ix_stat_appointments_status_at", "status_at"),)


class StatAgendaAppointment(Base):
    """An appointment an agenda reported (editor, national platform) and its fate."""

    __tablename__ = "stat_agenda_appointments"

    appointment_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(16), default="")
    effecteur_id: Mapped[int | None]
    dossier_id: Mapped[int | None]
    start: Mapped[datetime]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime]

    __table_args__ = (Index("ix_stat_agenda_appointments_start", "start"),)


class StatDossierDay(Base):
    """The dossiers opened on a Paris day, counted per commune, track, priority and the
    profession / specialty a consultation asked for: what the report sums, kept by the
    projector beside ``stat_dossiers`` ("" stands for none: a key column is never NULL)."""

    __tablename__ = "stat_dossier_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    commune: Mapped[str] = mapped_column(String(8), primary_key=True)
    track: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[str] = mapped_column(String(8), primary_key=True)
    profession: Mapped[str] = mapped_column(String(8), primary_key=True)
    specialty: Mapped[str] = mapped_column(String(8), primary_key=True)
    dossiers: Mapped[int] = mapped_column(default=0)
    moved: Mapped[int] = mapped_column(default=0)
    oriented: Mapped[int] = mapped_column(default=0)  # to a consultation (any track)


class StatCallPlace(Base):
    """Each call's territory: the dossier that names the call (the one of highest id
    when several do, ``dossiers`` counting them), its opening and its commune, kept by
    the projector beside ``stat_dossiers`` so that the report places the month's calls
    by one lookup per call instead of scanning the month's dossiers."""

    __tablename__ = "stat_call_places"

    call_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dossier_id: Mapped[int]
    opened_at: Mapped[datetime]
    commune: Mapped[str] = mapped_column(String(8), default="")
    dossiers: Mapped[int] = mapped_column(default=1)


class StatCallHour(Base):
    """The calls offered in one UTC hour, packed: what the report reads instead of the
    month's ``stat_calls`` and ``stat_call_places`` rows, one key lookup per hour.

    Comma-separated lists, one item per call (app.stats.call_hours says what the
    values mean): ``calls`` (ids), ``waits`` (whole milliseconds, or a mark),
    ``line_codes`` and ``commune_codes`` (indexes into the row's distinct ``lines`` and
    ``communes``, "\x1f"-separated), ``opened`` (its dossier's opening, whole hours);
    ``seconds`` holds one float per abandoned or untimed call, in their order."""

    __tablename__ = "stat_call_hours"

    hour: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    calls: Mapped[str] = mapped_column(Text)
    waits: Mapped[str] = mapped_column(Text)
    seconds: Mapped[str] = mapped_column(Text)
    lines: Mapped[str] = mapped_column(Text)
    line_codes: Mapped[str] = mapped_column(Text)
    communes: Mapped[str] = mapped_column(Text)
    commune_codes: Mapped[str] = mapped_column(Text)
    opened: Mapped[str] = mapped_column(Text)


class StatPending(Base):
    """The events not yet folded into the facts: the hub folds them a moment after they
    commit, in batches (``app.stats.projection.catch_up``), and every statistics read
    folds what is left first.

    Filled by a trigger on ``events`` (migration 0026), in the transaction that inserts
    the event: whatever path writes an event, it is queued exactly when it commits. Not
    a flag on ``events``: the log stays append-only.
    """

    __tablename__ = "stat_pending"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
