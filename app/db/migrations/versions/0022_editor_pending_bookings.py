"""bookings made on an agenda editor's page: pending until the editor confirms them

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain added columns with server defaults: no copy of the populated table.
    op.add_column(
        "dir_bookings",
        sa.Column("agenda_status", sa.String(16), nullable=False, server_default=""),
    )
    op.add_column(
        "dir_bookings", sa.Column("booking_page", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "dir_bookings", sa.Column("reminded_at", app.db.types.UTCDateTime(), nullable=True)
    )
    op.create_index(
        "ix_dir_bookings_agenda_pending", "dir_bookings", ["agenda_status", "effecteur_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_dir_bookings_agenda_pending", table_name="dir_bookings")
    op.drop_column("dir_bookings", "reminded_at")
    op.drop_column("dir_bookings", "booking_page")
    op.drop_column("dir_bookings", "agenda_status")
