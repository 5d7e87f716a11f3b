"""directory: slots keep the CPTS they are offered through; CPTS desk members

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dir_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("structure_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_dir_slots_structure",
            "dir_structures",
            ["structure_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "dir_structure_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["structure_id"], ["dir_structures.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "structure_id"),
    )


def downgrade() -> None:
    op.drop_table("dir_structure_members")
    with op.batch_alter_table("dir_slots", schema=None) as batch_op:
        batch_op.drop_constraint("fk_dir_slots_structure", type_="foreignkey")
        batch_op.drop_column("structure_id")
