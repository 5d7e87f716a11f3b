"""recordings of calls placed from the slot search: the call's ref, number and callee

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("placed_ref", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column("placed_number", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("placed_to", sa.String(length=255), nullable=False, server_default="")
        )
        batch.create_unique_constraint("uq_recordings_placed_ref", ["placed_ref"])


def downgrade() -> None:
    op.execute("DELETE FROM recordings WHERE placed_ref IS NOT NULL")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_constraint("uq_recordings_placed_ref", type_="unique")
        batch.drop_column("placed_to")
        batch.drop_column("placed_number")
        batch.drop_column("placed_ref")
