"""The purge's own records: what each run deleted, and the dossiers it must not touch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, Payload


class PurgeJournal(Base):
    """One row per kind of thing a purge run deleted. Never deleted itself; holds dossier
    numbers, ids and dates, no patient data."""

    __tablename__ = "purge_journal"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    #: dossiers, calls, recordings, audit, recording_files_left
    kind: Mapped[str] = mapped_column(String(32))
    cutoff: Mapped[datetime | None]
    #: The period applied, as the purge described it ("20 ans (Code de la santé…)").
    period: Mapped[str] = mapped_column(String(255), default="")
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[Payload] = mapped_column(default=dict)

    __table_args__ = (Index("ix_purge_journal_at", "at"),)


class RetentionHold(Base):
    """A dossier kept past its period: a claim or a court case suspends the deadline
    (arrêté du 20 octobre 2011, art. 1), until the hold is lifted."""

    __tablename__ = "retention_holds"

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_at: Mapped[datetime]
    placed_by: Mapped[str] = mapped_column(String(128))
