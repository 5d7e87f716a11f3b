"""appointments received from agenda editors (FHIR INT_R03) and the journal of every
feedback message, refused ones included

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("identifier_system", sa.String(255), nullable=False),
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("end", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("regulator_id", sa.String(64), nullable=False),
        sa.Column("regulator_national", sa.Boolean(), nullable=False),
        sa.Column("effecteur_national_id", sa.String(16), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), sa.ForeignKey("dir_effecteurs.id"), nullable=True),
        sa.Column("dossier_id", sa.Integer(), sa.ForeignKey("dossiers.id"), nullable=True),
        sa.Column("booking_id", sa.Integer(), sa.ForeignKey("dir_bookings.id"), nullable=True),
        sa.Column("received_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "source", "identifier_system", "identifier", name="uq_appointment_source_id"
        ),
    )
    op.create_index("ix_appointments_effecteur_start", "appointments", ["effecteur_id", "start"])
    op.create_table(
        "appointment_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(128), nullable=False),
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column(
            "appointment_id",
            sa.Integer(),
            sa.ForeignKey("appointments.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("detail", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("appointment_messages")
    op.drop_index("ix_appointments_effecteur_start", table_name="appointments")
    op.drop_table("appointments")
