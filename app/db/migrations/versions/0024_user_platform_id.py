"""the identifier the national SAS platform gives an account without a national one

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 17:40:00

An ARM or an OSNP has no RPPS: when they book on the platform, or an editor's agenda
names them, the regulator is the platform's technical identifier (FHIR system
urn:oid:1.2.250.1.213.3.6) or, in RS-SAS-RDV, the platform's ``regulatorId``. The
account carries it so that the appointment finds its desk (app.appointments.views).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("platform_id", sa.String(64), nullable=True))
    op.create_index("ix_users_platform_id", "users", ["platform_id"], unique=True)


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of users would drop a table every
    # other one references, which foreign keys refuse.
    op.drop_index("ix_users_platform_id", table_name="users")
    op.drop_column("users", "platform_id")
