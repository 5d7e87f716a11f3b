"""Pro Santé Connect: accounts carry the professional's national identifier, sessions
say how they were proven (password, psc, password_fallback with its reason), and a
decision records the deciding doctor's identifier and authentication

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("national_id", sa.String(16), nullable=True))
    op.create_index("ix_users_national_id", "users", ["national_id"], unique=True)
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(
            sa.Column("auth", sa.String(24), server_default="password", nullable=False)
        )
        batch.add_column(sa.Column("national_id", sa.String(16), server_default="", nullable=False))
        batch.add_column(
            sa.Column("fallback_reason", sa.String(500), server_default="", nullable=False)
        )
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("decided_national_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("decided_auth", sa.String(24), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of users or dossiers would drop
    # a table that every other one references, which foreign keys refuse.
    op.drop_column("dossiers", "decided_auth")
    op.drop_column("dossiers", "decided_national_id")
    for name in ("fallback_reason", "national_id", "auth"):
        op.drop_column("login_sessions", name)
    op.drop_index("ix_users_national_id", table_name="users")
    op.drop_column("users", "national_id")
