"""The link "same patient as" between two dossiers, and the indexes of the history.

The indexes are declared here (not in app.db.models) because they exist for the
history and the search only; migration 0011 creates them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, Dossier


class DossierLink(Base):
    """``dossier_id`` concerns the same patient as ``same_patient_as_id`` (one per dossier;
    attaching again moves the link)."""

    __tablename__ = "dossier_links"

    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True
    )
    same_patient_as_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime]


#: Caller's history on ring: one number, newest first, within a period.
CALLER_INDEX = Index("ix_dossiers_caller_answered", Dossier.caller_number, Dossier.answered_at)
#: Search by period (and the order of every search: newest first); the names ride along
#: so that a common name is filtered while walking the dates, without reading the rows.
ANSWERED_INDEX = Index(
    "ix_dossiers_answered_at",
    Dossier.answered_at,
    func.lower(Dossier.patient_last_name),
    func.lower(Dossier.patient_first_name),
)
#: Search by name, case-insensitive prefix: the expression the query compares.
NAME_INDEX = Index(
    "ix_dossiers_patient_name",
    func.lower(Dossier.patient_last_name),
    func.lower(Dossier.patient_first_name),
)
HISTORY_INDEXES = (CALLER_INDEX, ANSWERED_INDEX, NAME_INDEX)
