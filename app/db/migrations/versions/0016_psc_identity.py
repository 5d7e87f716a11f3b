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
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("national_id", sa.String(16), nullable=True))
        batch.create_index("ix_users_national_id", ["national_id"], unique=True)
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
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("decided_auth")
        batch.drop_column("decided_national_id")
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("fallback_reason")
        batch.drop_column("national_id")
        batch.drop_column("auth")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_national_id")
        batch.drop_column("national_id")
