"""ROR: a structure's national identifier (FINESS or ROR id); the agenda connected to
the SAS (editor, level) per practice place, seeded from the effecteur's

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A unique index, not a table constraint: SQLite adds it without copying the table,
    # which a populated room's foreign keys (effecteurs, slots) would refuse.
    op.add_column("dir_structures", sa.Column("national_id", sa.String(64), nullable=True))
    op.create_index("uq_dir_structures_national_id", "dir_structures", ["national_id"], unique=True)
    with op.batch_alter_table("dir_practices") as batch:
        batch.add_column(
            sa.Column("agenda_software", sa.String(64), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("agenda_level", sa.String(16), server_default="", nullable=False)
        )
    # Until now the agenda was the effecteur's: every place of his keeps it.
    op.execute(
        "UPDATE dir_practices SET "
        "agenda_software = (SELECT e.agenda_software FROM dir_effecteurs e "
        "WHERE e.id = dir_practices.effecteur_id), "
        "agenda_level = (SELECT e.agenda_level FROM dir_effecteurs e "
        "WHERE e.id = dir_practices.effecteur_id)"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop tables that others
    # reference, which SQLite's foreign keys refuse once the room has data.
    op.drop_column("dir_practices", "agenda_level")
    op.drop_column("dir_practices", "agenda_software")
    op.drop_index("uq_dir_structures_national_id", table_name="dir_structures")
    op.drop_column("dir_structures", "national_id")
