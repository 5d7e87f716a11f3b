"""statistics facts of the appointments agendas report (booked, fulfilled, noshow,
cancelled), backfilled from the event log; the dossiers counted per Paris day

The day counts (``stat_dossier_days``) are counted from ``stat_dossiers`` as
app.stats.dossier_days counts them at this revision, so they equal a rebuild.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 14:20:00

One row per appointment an editor (FHIR INT_R03) or the national platform reported,
folded from ``appointment.received`` / ``appointment.updated`` as app.stats.fold folds
them at this revision (a copy below: a migration never runs live application code), so
a database that already received appointments keeps them in its statistics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import app.db.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TYPES = ("appointment.received", "appointment.updated")


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _fold(rows: Any) -> dict[int, dict[str, Any]]:
    facts: dict[int, dict[str, Any]] = {}
    for at_raw, dossier_id, data_raw in rows:
        at = _instant(at_raw)
        data = json.loads(data_raw) if isinstance(data_raw, str | bytes) else data_raw or {}
        ap = data.get("appointment") or {}
        aid, start = ap.get("id"), _instant(ap.get("start"))
        if aid is None or start is None or at is None:
            continue
        status = ap.get("status") or "booked"
        effecteur = (ap.get("effecteur") or {}).get("id")
        dossier = ap.get("dossier_id") or dossier_id
        f = facts.get(aid)
        if f is None:
            facts[aid] = {
                "appointment_id": aid,
                "source": ap.get("source") or "",
                "effecteur_id": effecteur,
                "dossier_id": dossier,
                "start": start,
                "received_at": at,
                "status": status,
                "status_at": at,
            }
            continue
        f["start"] = start
        if effecteur is not None:
            f["effecteur_id"] = effecteur
        if dossier is not None:
            f["dossier_id"] = dossier
        if status != f["status"]:
            f["status"], f["status_at"] = status, at
    return facts


PARIS = ZoneInfo("Europe/Paris")
DAY_KEYS = ("day", "commune", "track", "priority", "profession", "specialty")


def _days(rows: Iterable[Any]) -> list[dict[str, Any]]:
    cells: dict[tuple[Any, ...], list[int]] = {}
    for opened, commune, track, priority, profession, specialty, moves, decision, orient in rows:
        at = _instant(opened)
        assert at is not None
        day: date = at.astimezone(PARIS).date()
        key = (day, commune or "", track or "", priority or "", profession or "", specialty or "")
        cell = cells.setdefault(key, [0, 0, 0])
        cell[0] += 1
        cell[1] += 1 if moves else 0
        cell[2] += 1 if decision == "ORIENT" and orient == "CONSULTATION_48H" else 0
    return [
        {**dict(zip(DAY_KEYS, k, strict=True)), "dossiers": n, "moved": m, "oriented": o}
        for k, (n, m, o) in cells.items()
    ]


def upgrade() -> None:
    UTCDateTime = app.db.types.UTCDateTime
    days = op.create_table(
        "stat_dossier_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("commune", sa.String(length=8), nullable=False),
        sa.Column("track", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("profession", sa.String(length=8), nullable=False),
        sa.Column("specialty", sa.String(length=8), nullable=False),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("oriented", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*DAY_KEYS),
    )
    dossiers = sa.table(
        "stat_dossiers",
        *(
            sa.column(
                c,
                UTCDateTime()
                if c == "opened_at"
                else sa.Integer()
                if c == "moves"
                else sa.String(),
            )
            for c in (
                "opened_at",
                "commune",
                "track",
                "priority",
                "profession",
                "specialty",
                "moves",
                "decision",
                "orientation",
            )
        ),
    )
    counted = _days(op.get_bind().execute(sa.select(*dossiers.c)))
    if counted:
        op.bulk_insert(days, counted)
    table = op.create_table(
        "stat_agenda_appointments",
        sa.Column("appointment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("effecteur_id", sa.Integer(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index("ix_stat_agenda_appointments_start", "stat_agenda_appointments", ["start"])
    events = sa.table(
        "events",
        sa.column("seq", sa.Integer()),
        sa.column("at", UTCDateTime()),
        sa.column("type", sa.String()),
        sa.column("dossier_id", sa.Integer()),
        sa.column("data", sa.JSON()),
    )
    rows = op.get_bind().execute(
        sa.select(events.c.at, events.c.dossier_id, events.c.data)
        .where(events.c.type.in_(TYPES))
        .order_by(events.c.seq)
    )
    facts = list(_fold(rows).values())
    if facts:
        op.bulk_insert(table, facts)


def downgrade() -> None:
    op.drop_table("stat_dossier_days")
    op.drop_index("ix_stat_agenda_appointments_start", "stat_agenda_appointments")
    op.drop_table("stat_agenda_appointments")
