"""recordings of outgoing call-back calls: a recording belongs to a call or an attempt

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.alter_column("call_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("attempt_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_recordings_attempt_id", "cb_attempts", ["attempt_id"], ["id"])
        batch.create_unique_constraint("uq_recordings_attempt_id", ["attempt_id"])


def downgrade() -> None:
    op.execute("DELETE FROM recordings WHERE call_id IS NULL")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_constraint("uq_recordings_attempt_id", type_="unique")
        batch.drop_constraint("fk_recordings_attempt_id", type_="foreignkey")
        batch.drop_column("attempt_id")
        batch.alter_column("call_id", existing_type=sa.Integer(), nullable=False)
