"""the statistics facts folded a moment after their events commit, not in their unit

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 02:20:00

The statistics projection cost the hub's single writer more than the intent it followed
(about 0.6 ms of CPU per intent on PostgreSQL, 0.25 ms on SQLite, one intent at a time).
The hub now folds the new events in batches (app.stats.hub), and every statistics
read folds what is left first (app.stats.projection.catch_up). ``stat_pending`` holds the
events not yet folded; a trigger on ``events`` queues each event in the transaction that
inserts it, so that an event is queued exactly when it commits, by whichever path wrote
it. The events already in the log were folded by the projector of their unit: the queue
starts empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_pending", sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False)
    )
    if op.get_bind().dialect.name == "postgresql":
        # One statement-level trigger per INSERT (a unit's several events: one INSERT).
        op.execute(
            """
            CREATE FUNCTION stat_pending_queue() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO stat_pending (seq) SELECT seq FROM fresh;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER events_stat_pending AFTER INSERT ON events "
            "REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT "
            "EXECUTE FUNCTION stat_pending_queue()"
        )
    else:
        op.execute(
            "CREATE TRIGGER events_stat_pending AFTER INSERT ON events "
            "BEGIN INSERT INTO stat_pending (seq) VALUES (NEW.seq); END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER events_stat_pending"
        + (" ON events" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION stat_pending_queue()")
    op.drop_table("stat_pending")
