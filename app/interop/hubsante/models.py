"""The Hub Santé connector's tables: the journal of every message in and out, the
outbox of messages still to publish, and the link between a shared case and its
dossier (migration 0009)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base
from app.db.types import utcnow


class HsJournal(Base):
    """One message received or sent, kept with its body (a refused one for the
    supervisor). ``(direction, distribution_id)`` is unique: a message delivered twice
    is applied once."""

    __tablename__ = "hs_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    distribution_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="")
    content: Mapped[str] = mapped_column(String(32), default="")  # createCaseHealth…
    sender: Mapped[str] = mapped_column(String(255), default="")
    recipient: Mapped[str] = mapped_column(String(255), default="")
    case_id: Mapped[str] = mapped_column(String(255), default="")
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    #: in: applied | refused | acknowledged (a reference) | error (an RS-ERROR received)
    #: out: queued | sent | acked | error | invalid (never left: failed the schemas)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("direction", "distribution_id", name="uq_hs_journal_message"),
        Index("ix_hs_journal_status", "direction", "status"),
    )


class HsOutbox(Base):
    """A message written in the same transaction as what caused it, published (with
    the broker's confirmation) by the connector, then marked sent."""

    __tablename__ = "hs_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[str] = mapped_column(String(255), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_hs_outbox_pending", "sent_at", "id"),)


class HsCase(Base):
    """A case shared on the Hub Santé and the dossier it is here."""

    __tablename__ = "hs_cases"

    case_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    owner: Mapped[str] = mapped_column(String(255))
    peer: Mapped[str] = mapped_column(String(255))  # whom our updates go to
    creation: Mapped[str] = mapped_column(String(32))
    messages_sent: Mapped[int] = mapped_column(Integer, default=0)
