"""login sessions: last activity (idle timeout) and why a session ended

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_active_at", app.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("ended_reason", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.create_index("ix_login_sessions_user_id", ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_login_sessions_user_id")
        batch_op.drop_column("ended_reason")
        batch_op.drop_column("last_active_at")
