"""The audit trail of reads: one row per read (or refused read) of a dossier's content.

Append-only: a database trigger (migration 0007) refuses every UPDATE, and every DELETE
unless the retention purge opened the gate in its own transaction. No foreign keys: a
row outlives the account, the desk and the dossier it names (the dossier number is kept).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base


class AuditRead(Base):
    __tablename__ = "audit_reads"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None]
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32), default="")
    desk: Mapped[str] = mapped_column(String(255), default="")
    dossier_id: Mapped[int | None]
    dossier_number: Mapped[str | None] = mapped_column(String(32))
    #: The intent that read (dossier.get, callback.letter, recording.play…).
    intent: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (
        Index("ix_audit_reads_dossier", "dossier_id", "at"),
        Index("ix_audit_reads_user", "username", "at"),
        Index("ix_audit_reads_at", "at"),
    )


class AuditPurgeGate(Base):
    """One row; ``open`` is true only inside the purge's transaction (see the triggers)."""

    __tablename__ = "audit_purge_gate"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    open: Mapped[bool] = mapped_column(Boolean, default=False)
