"""each call's territory for the statistics: the dossier that names the call, its
opening and its commune (``stat_call_places``), backfilled from ``stat_dossiers``

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 21:00:00

The monthly report placed the month's calls in their territories by scanning the
month's dossier facts and matching them to the calls; the projector now keeps one row
per call that a dossier names (app.stats.call_places). The backfill counts it as that
module does at this revision: per call, the dossier of highest id and how many name it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    UTCDateTime = app.db.types.UTCDateTime
    places = op.create_table(
        "stat_call_places",
        sa.Column("call_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("commune", sa.String(length=8), nullable=False),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    dossiers = sa.table(
        "stat_dossiers",
        sa.column("dossier_id", sa.Integer()),
        sa.column("call_id", sa.Integer()),
        sa.column("opened_at", UTCDateTime()),
        sa.column("commune", sa.String()),
    )
    d = dossiers.c
    named = (
        sa.select(
            d.call_id,
            sa.func.max(d.dossier_id).label("last"),
            sa.func.count().label("n"),
        )
        .where(d.call_id.is_not(None))
        .group_by(d.call_id)
        .subquery()
    )
    op.get_bind().execute(
        places.insert().from_select(
            ["call_id", "dossier_id", "opened_at", "commune", "dossiers"],
            sa.select(d.call_id, d.dossier_id, d.opened_at, d.commune, named.c.n).select_from(
                dossiers.join(named, d.dossier_id == named.c.last)
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("stat_call_places")
