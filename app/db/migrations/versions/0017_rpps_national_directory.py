"""the national RPPS extraction in the directory: civility and origin of an effecteur;
phone, SIRET/FINESS, site reference and origin of a practice place

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dir_effecteurs") as batch:
        batch.add_column(sa.Column("civility", sa.String(32), server_default="", nullable=False))
        batch.add_column(sa.Column("source", sa.String(16), server_default="", nullable=False))
    with op.batch_alter_table("dir_practices") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), server_default="", nullable=False))
        batch.add_column(sa.Column("phone2", sa.String(32), server_default="", nullable=False))
        batch.add_column(sa.Column("siret", sa.String(14), server_default="", nullable=False))
        batch.add_column(sa.Column("finess", sa.String(9), server_default="", nullable=False))
        batch.add_column(sa.Column("site_ref", sa.String(64), server_default="", nullable=False))
        batch.add_column(sa.Column("source", sa.String(16), server_default="", nullable=False))
        batch.add_column(sa.Column("rev", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_dir_effecteurs_source", "dir_effecteurs", ["source"])


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of dir_effecteurs would drop a
    # table that practices, slots and bookings reference, which foreign keys refuse.
    op.drop_index("ix_dir_effecteurs_source", table_name="dir_effecteurs")
    for name in ("rev", "source", "site_ref", "finess", "siret", "phone2", "phone"):
        op.drop_column("dir_practices", name)
    op.drop_column("dir_effecteurs", "source")
    op.drop_column("dir_effecteurs", "civility")
