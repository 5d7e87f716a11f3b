"""login failures kept in the database (shared by hubs, kept across restarts) and the
desks each call rang (call.ended is only taken from one of them)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("locked_until", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("locked_at_count", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "call_rings",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rung_at", app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("call_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("call_rings")
    op.drop_table("login_failures")
