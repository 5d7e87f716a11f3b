"""the profession and specialty a consultation asks for: on the OSNP task, and in the
statistics' dossier facts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 04:40:00

Before this revision every consultation was one with a general practitioner: existing
tasks get 10 / SM54 (TRE-G15 médecin, TRE-R38 médecine générale), and so do the facts
of dossiers oriented to a consultation, as the fold reads a decision event that names
no profession (app.stats.fold), so the facts equal a rebuild of the log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("osnp_tasks") as batch:
        batch.add_column(
            sa.Column("profession", sa.String(length=8), server_default="10", nullable=False)
        )
        batch.add_column(
            sa.Column("specialty", sa.String(length=8), server_default="SM54", nullable=False)
        )
    with op.batch_alter_table("stat_dossiers") as batch:
        batch.add_column(sa.Column("profession", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("specialty", sa.String(length=8), nullable=True))
    op.execute(
        "UPDATE stat_dossiers SET profession = '10', specialty = 'SM54' "
        "WHERE decision = 'ORIENT' AND orientation = 'CONSULTATION_48H'"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35 has it): a batch copy of osnp_tasks would drop
    # a table the call-back tables reference, which SQLite's foreign keys refuse.
    for table in ("stat_dossiers", "osnp_tasks"):
        op.drop_column(table, "specialty")
        op.drop_column(table, "profession")
