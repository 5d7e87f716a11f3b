"""Alembic environment: runs on the connection the hub hands over, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import app.appointments.models  # noqa: E402,F401  (appointments, migration 0020)
import app.callback.models  # noqa: E402,F401  (call-back tables, migration 0003)
import app.db.audit  # noqa: E402,F401  (audit of reads, migration 0007)
import app.directory.models  # noqa: E402,F401  (directory tables, migration 0002)
import app.hub.throttle  # noqa: E402,F401  (login failures, migration 0012)
import app.interop.hubsante.models  # noqa: E402,F401  (Hub Santé journal, migration 0009)
import app.recordings.models  # noqa: E402,F401  (call recordings, migration 0006)
import app.retention.models  # noqa: E402,F401  (purge journal, holds, migration 0008)
import app.stats.models  # noqa: E402,F401  (statistics facts, migration 0004)
from app.db.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
