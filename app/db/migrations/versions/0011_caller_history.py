"""caller's history and dossier search: indexes, and the "same patient" link

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_dossiers_caller_answered", "dossiers", ["caller_number", "answered_at"])
    op.create_index("ix_dossiers_answered_at", "dossiers", ["answered_at"])
    op.create_index(
        "ix_dossiers_patient_name",
        "dossiers",
        [sa.text("lower(patient_last_name)"), sa.text("lower(patient_first_name)")],
    )
    op.create_table(
        "dossier_links",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("same_patient_as_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["same_patient_as_id"], ["dossiers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["linked_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("dossier_id"),
    )
    op.create_index("ix_dossier_links_same_patient_as_id", "dossier_links", ["same_patient_as_id"])


def downgrade() -> None:
    op.drop_index("ix_dossier_links_same_patient_as_id", table_name="dossier_links")
    op.drop_table("dossier_links")
    op.drop_index("ix_dossiers_patient_name", table_name="dossiers")
    op.drop_index("ix_dossiers_answered_at", table_name="dossiers")
    op.drop_index("ix_dossiers_caller_answered", table_name="dossiers")
