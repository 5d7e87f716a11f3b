"""hub santé connector: message journal, outbox, shared cases

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = app.db.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "hs_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("distribution_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("case_id", sa.String(length=255), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.Column("acked_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("direction", "distribution_id", name="uq_hs_journal_message"),
    )
    op.create_index("ix_hs_journal_status", "hs_journal", ["direction", "status"])
    op.create_table(
        "hs_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distribution_id", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("distribution_id"),
    )
    op.create_index("ix_hs_outbox_pending", "hs_outbox", ["sent_at", "id"])
    op.create_table(
        "hs_cases",
        sa.Column("case_id", sa.String(length=255), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("peer", sa.String(length=255), nullable=False),
        sa.Column("creation", sa.String(length=32), nullable=False),
        sa.Column("messages_sent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("dossier_id"),
    )


def downgrade() -> None:
    op.drop_table("hs_cases")
    op.drop_index("ix_hs_outbox_pending", table_name="hs_outbox")
    op.drop_table("hs_outbox")
    op.drop_index("ix_hs_journal_status", table_name="hs_journal")
    op.drop_table("hs_journal")
