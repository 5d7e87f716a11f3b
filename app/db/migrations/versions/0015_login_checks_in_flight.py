"""password checks in flight counted in login_failures: the limit on attempts sent
together holds across every hub sharing the database

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_failures") as batch:
        batch.add_column(sa.Column("checking", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("checking_at", app.db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("checking_at")
        batch.drop_column("checking")
