"""stats facts: one row per call, dossier, OSNP search, booking, call-back appointment,
backfilled from the event log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:50:00

The tables are derived from ``events``: the backfill folds the existing log as the
hub's projector folded it at this revision (a frozen copy, app/db/migrations/frozen/
stats_0004.py: a migration never runs live application code), so an existing
database keeps its history in the statistics.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = app.db.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "stat_calls",
        sa.Column("call_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("offered_at", UTC(), nullable=False),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("answered_at", UTC(), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("ended_at", UTC(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index("ix_stat_calls_offered", "stat_calls", ["offered_at"])
    op.create_table(
        "stat_dossiers",
        sa.Column("dossier_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opened_at", UTC(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("line", sa.String(length=16), nullable=False),
        sa.Column("commune", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("track", sa.String(length=16), nullable=True),
        sa.Column("decision", sa.String(length=24), nullable=True),
        sa.Column("orientation", sa.String(length=32), nullable=True),
        sa.Column("moves", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dossier_id"),
    )
    op.create_index("ix_stat_dossiers_opened", "stat_dossiers", ["opened_at"])
    op.create_table(
        "stat_tasks",
        sa.Column("task_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=True),
        sa.Column("deadline_at", UTC(), nullable=True),
        sa.Column("taken_at", UTC(), nullable=True),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("no_solution_reason", sa.String(length=32), nullable=True),
        sa.Column("appointment_at", UTC(), nullable=True),
        sa.Column("seconds_to_outcome", sa.Float(), nullable=True),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index("ix_stat_tasks_created", "stat_tasks", ["created_at"])
    op.create_index("ix_stat_tasks_closed", "stat_tasks", ["closed_at"])
    op.create_table(
        "stat_bookings",
        sa.Column("booking_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("appointment_at", UTC(), nullable=False),
        sa.Column("booked_at", UTC(), nullable=False),
        sa.Column("released_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("booking_id"),
    )
    op.create_index("ix_stat_bookings_booked", "stat_bookings", ["booked_at"])
    op.create_table(
        "stat_appointments",
        sa.Column("appointment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("appointment_at", UTC(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index("ix_stat_appointments_status_at", "stat_appointments", ["status_at"])

    # Backfill: the existing log, folded as the hub's projector folded it at 0004.
    from app.db.migrations.frozen.stats_0004 import backfill

    backfill(op.get_bind())


def downgrade() -> None:
    for table in (
        "stat_appointments",
        "stat_bookings",
        "stat_tasks",
        "stat_dossiers",
        "stat_calls",
    ):
        op.drop_table(table)
