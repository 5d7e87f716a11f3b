"""callback: plan targets, attempts, appointments, persisted reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:53:49.188811
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cb_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("phone_direct", sa.String(length=32), nullable=False),
        sa.Column("phone_secretary", sa.String(length=32), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("slot_start", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("slot_type", sa.String(length=24), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=False),
        sa.Column("retry_at", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["effecteur_id"],
            ["dir_effecteurs.id"],
        ),
        sa.ForeignKeyConstraint(["slot_id"], ["dir_slots.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["osnp_tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cb_targets", schema=None) as batch_op:
        batch_op.create_index("ix_cb_targets_task", ["task_id", "position"], unique=False)

    op.create_table(
        "cb_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("effecteur_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("doctor_name", sa.String(length=255), nullable=False),
        sa.Column("is_treating_doctor", sa.Boolean(), nullable=False),
        sa.Column("at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("consultation_type", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("regulated_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["dir_bookings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["effecteur_id"],
            ["dir_effecteurs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["cb_targets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["osnp_tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_table(
        "cb_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("call_ref", sa.String(length=255), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("recording_path", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("refusal_reason", sa.String(length=24), nullable=False),
        sa.Column("call_back_at", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["cb_targets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["osnp_tasks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cb_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_cb_attempts_task", ["task_id", "at"], unique=False)

    op.create_table(
        "cb_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("due_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("fired_at", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["cb_targets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["osnp_tasks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cb_reminders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cb_reminders_pending", ["fired_at", "cancelled_at", "due_at"], unique=False
        )
        batch_op.create_index("ix_cb_reminders_task", ["task_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cb_reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_cb_reminders_task")
        batch_op.drop_index("ix_cb_reminders_pending")

    op.drop_table("cb_reminders")
    with op.batch_alter_table("cb_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_cb_attempts_task")

    op.drop_table("cb_attempts")
    op.drop_table("cb_appointments")
    with op.batch_alter_table("cb_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_cb_targets_task")

    op.drop_table("cb_targets")
