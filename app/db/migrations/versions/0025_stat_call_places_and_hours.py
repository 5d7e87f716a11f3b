"""each call's territory for the statistics (``stat_call_places``) and the calls of
each hour packed for the report (``stat_call_hours``), backfilled from the facts

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 21:00:00

The monthly report read the month's calls from ``stat_calls`` and placed them in
their territories by scanning the month's dossier facts; the projector now keeps one
row per call that a dossier names (app.stats.call_places) and one row per UTC hour
packing its calls' waits, lines and places (app.stats.call_hours). The backfill
counts both as those modules do at this revision (a copy below: a migration never
runs live application code): per call, the dossier of highest id and how many name
it; per hour, each call's wait in whole milliseconds (-1 not answered or without a
wait, -2 not a whole non-negative number of milliseconds), line, dossier's commune
("\x1e" none) and opening hour (-1 none, -2 several dossiers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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

    _pack_hours()


NO_PLACE, SEP = "\x1e", "\x1f"


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def _hour(at: datetime) -> int:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return int(at.timestamp()) // 3600


def _wait(
    offered: datetime,
    answered: datetime | None,
    wait: float | None,
    ended: datetime | None,
    abandoned: bool,
) -> tuple[int, float | None]:
    """A call's wait code and its seconds, as app.stats.call_hours codes them here."""
    if answered is not None:
        if wait is None:
            return -4, (answered - offered).total_seconds()
        ms = round(wait * 1000)
        return (ms if ms >= 0 and ms / 1000 == wait else -2), None
    if abandoned:
        return -3, -1.0 if ended is None else max(0.0, (ended - offered).total_seconds())
    return -1, None


def _local(values: list[str]) -> tuple[str, str]:
    distinct = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(distinct)}
    return SEP.join(distinct), ",".join(str(index[v]) for v in values)


def _pack_hours() -> None:
    UTCDateTime = app.db.types.UTCDateTime
    hours = op.create_table(
        "stat_call_hours",
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in (
                "calls",
                "waits",
                "seconds",
                "lines",
                "line_codes",
                "communes",
                "commune_codes",
                "opened",
            )
        ),
        sa.PrimaryKeyConstraint("hour"),
    )
    calls = sa.table(
        "stat_calls",
        sa.column("call_id", sa.Integer()),
        sa.column("offered_at", UTCDateTime()),
        sa.column("line", sa.String()),
        sa.column("answered_at", UTCDateTime()),
        sa.column("wait_seconds", sa.Float()),
        sa.column("ended_at", UTCDateTime()),
        sa.column("abandoned", sa.Boolean()),
    )
    places = sa.table(
        "stat_call_places",
        sa.column("call_id", sa.Integer()),
        sa.column("opened_at", UTCDateTime()),
        sa.column("commune", sa.String()),
        sa.column("dossiers", sa.Integer()),
    )
    bind = op.get_bind()
    place: dict[int, tuple[str, int]] = {
        call_id: (commune, -2 if n > 1 else _hour(opened))
        for call_id, opened, commune, n in bind.execute(sa.select(*places.c))
    }
    rows: dict[int, list[tuple[Any, ...]]] = {}
    for call_id, offered, line, answered, wait, ended, abandoned in bind.execute(
        sa.select(*calls.c).order_by(calls.c.call_id)
    ):
        offered = offered if offered.tzinfo else offered.replace(tzinfo=UTC)
        code, seconds = _wait(offered, _aware(answered), wait, _aware(ended), bool(abandoned))
        commune, opened = place.get(call_id, (NO_PLACE, -1))
        rows.setdefault(_hour(offered), []).append((call_id, code, seconds, line, commune, opened))
    packed = []
    for hour, items in sorted(rows.items()):
        lines, line_codes = _local([x[3] for x in items])
        communes, commune_codes = _local([x[4] for x in items])
        packed.append(
            {
                "hour": hour,
                "calls": ",".join(str(x[0]) for x in items),
                "waits": ",".join(str(x[1]) for x in items),
                "seconds": ",".join(repr(x[2]) for x in items if x[2] is not None),
                "lines": lines,
                "line_codes": line_codes,
                "communes": communes,
                "commune_codes": commune_codes,
                "opened": ",".join(str(x[5]) for x in items),
            }
        )
    if packed:
        op.bulk_insert(hours, packed)


def downgrade() -> None:
    op.drop_table("stat_call_hours")
    op.drop_table("stat_call_places")
