"""appointments from the national SAS platform (RS-SAS-RDV through the Hub Santé): the
structure, the practitioner and the regulator as the platform names them, the
orientation category, when it was booked, and whether an end was given

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_TEXT = (
    ("practitioner_name", 255),
    ("organization_id", 64),
    ("organization_name", 255),
    ("regulator_name", 255),
    ("regulator_email", 255),
    ("orientation_category", 8),
)


def upgrade() -> None:
    for name, size in _TEXT:
        op.add_column(
            "appointments", sa.Column(name, sa.String(size), nullable=False, server_default="")
        )
    op.add_column(
        "appointments",
        sa.Column("end_known", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("appointments", sa.Column("booked_at", app.db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("appointments", "booked_at")
    op.drop_column("appointments", "end_known")
    for name, _size in reversed(_TEXT):
        op.drop_column("appointments", name)
