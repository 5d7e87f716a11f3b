"""directory: effecteurs, structures, practices, slots and ranges, bookings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:29:45.553259
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dir_structures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sector", sa.String(length=16), nullable=False),
        sa.Column("snp_phone", sa.String(length=32), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("commune_insee", sa.String(length=5), nullable=False),
        sa.Column("communes", sa.JSON(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "directory_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The single counter row every directory writer updates first (see models.py).
    op.execute("INSERT INTO directory_state (id, revision) VALUES (1, 0)")
    op.create_table(
        "dir_effecteurs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rpps", sa.String(length=11), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=False),
        sa.Column("profession", sa.String(length=64), nullable=False),
        sa.Column("specialty", sa.String(length=128), nullable=False),
        sa.Column("phone_direct", sa.String(length=32), nullable=False),
        sa.Column("phone_secretary", sa.String(length=32), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("sas_participant", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("accepts_beyond_slots", sa.Boolean(), nullable=False),
        sa.Column("agenda_software", sa.String(length=64), nullable=False),
        sa.Column("agenda_level", sa.String(length=16), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("weekly_availability", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["dir_structures.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rpps"),
    )
    with op.batch_alter_table("dir_effecteurs", schema=None) as batch_op:
        batch_op.create_index("ix_dir_effecteurs_rev", ["rev"], unique=False)

    op.create_table(
        "dir_practices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("commune_insee", sa.String(length=5), nullable=False),
        sa.Column("commune_name", sa.String(length=128), nullable=False),
        sa.Column("postal_code", sa.String(length=5), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["effecteur_id"], ["dir_effecteurs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dir_practices", schema=None) as batch_op:
        batch_op.create_index("ix_dir_practices_effecteur", ["effecteur_id"], unique=False)

    op.create_table(
        "dir_recurring",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("consultation_type", sa.String(length=24), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("every_other_week", sa.Boolean(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["effecteur_id"], ["dir_effecteurs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dir_unavailabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=False),
        sa.Column("start", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("end", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["effecteur_id"], ["dir_effecteurs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dir_unavailabilities", schema=None) as batch_op:
        batch_op.create_index("ix_dir_unavail_effecteur", ["effecteur_id"], unique=False)
        batch_op.create_index("ix_dir_unavail_rev", ["rev"], unique=False)

    op.create_table(
        "dir_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("start", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("end", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("consultation_type", sa.String(length=24), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("is_range", sa.Boolean(), nullable=False),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["effecteur_id"], ["dir_effecteurs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["dir_practices.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_ref", name="uq_dir_slots_source_ref"),
    )
    with op.batch_alter_table("dir_slots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dir_slots_effecteur_start", ["effecteur_id", "start"], unique=False
        )
        batch_op.create_index("ix_dir_slots_rev", ["rev"], unique=False)
        batch_op.create_index("ix_dir_slots_start", ["start"], unique=False)

    op.create_table(
        "dir_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("effecteur_id", sa.Integer(), nullable=False),
        sa.Column("appointment_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("consultation_type", sa.String(length=24), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("booked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("released_at", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=False),
        sa.Column("snp", sa.Boolean(), nullable=False),
        sa.Column("requires_call", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booked_by_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["effecteur_id"],
            ["dir_effecteurs.id"],
        ),
        sa.ForeignKeyConstraint(["slot_id"], ["dir_slots.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dir_bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dir_bookings_effecteur_at", ["effecteur_id", "appointment_at"], unique=False
        )
        batch_op.create_index("ix_dir_bookings_slot", ["slot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dir_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_dir_bookings_slot")
        batch_op.drop_index("ix_dir_bookings_effecteur_at")

    op.drop_table("dir_bookings")
    with op.batch_alter_table("dir_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_dir_slots_start")
        batch_op.drop_index("ix_dir_slots_rev")
        batch_op.drop_index("ix_dir_slots_effecteur_start")

    op.drop_table("dir_slots")
    with op.batch_alter_table("dir_unavailabilities", schema=None) as batch_op:
        batch_op.drop_index("ix_dir_unavail_rev")
        batch_op.drop_index("ix_dir_unavail_effecteur")

    op.drop_table("dir_unavailabilities")
    op.drop_table("dir_recurring")
    with op.batch_alter_table("dir_practices", schema=None) as batch_op:
        batch_op.drop_index("ix_dir_practices_effecteur")

    op.drop_table("dir_practices")
    with op.batch_alter_table("dir_effecteurs", schema=None) as batch_op:
        batch_op.drop_index("ix_dir_effecteurs_rev")

    op.drop_table("dir_effecteurs")
    op.drop_table("directory_state")
    op.drop_table("dir_structures")
