"""audit of reads: an append-only table of who read which dossier, and its purge gate

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:40:00

Frozen: plain column types, no import of the application's models. Triggers refuse
UPDATE on ``audit_reads`` always, and DELETE unless ``audit_purge_gate.open`` is true,
which only the retention purge sets, inside its own transaction (so no other
transaction ever sees the gate open). PostgreSQL also refuses TRUNCATE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REFUSAL = "audit_reads is append-only: only the retention purge deletes rows"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_reads_no_update BEFORE UPDATE ON audit_reads
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER audit_reads_no_delete BEFORE DELETE ON audit_reads
    WHEN (SELECT open FROM audit_purge_gate WHERE id = 1) IS NOT 1
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
)

POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION audit_reads_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND (SELECT open FROM audit_purge_gate WHERE id = 1) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{REFUSAL} (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_reads_append_only BEFORE UPDATE OR DELETE ON audit_reads
    FOR EACH ROW EXECUTE FUNCTION audit_reads_append_only()""",
    """CREATE TRIGGER audit_reads_no_truncate BEFORE TRUNCATE ON audit_reads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reads_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "audit_reads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("desk", sa.String(length=255), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("dossier_number", sa.String(length=32), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_reads_dossier", "audit_reads", ["dossier_id", "at"])
    op.create_index("ix_audit_reads_user", "audit_reads", ["username", "at"])
    op.create_index("ix_audit_reads_at", "audit_reads", ["at"])
    gate = op.create_table(
        "audit_purge_gate",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(gate, [{"id": 1, "open": False}])
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_reads CASCADE")
        op.execute("DROP FUNCTION audit_reads_append_only()")
    else:
        op.drop_table("audit_reads")
    op.drop_table("audit_purge_gate")
