"""The hub's row for each call recording: where it is in the store, its hash, its links.

A recording belongs to exactly one call:
- an incoming call (``call_id``);
- an outgoing call-back call, through the OSNP's attempt that noted it (``attempt_id``);
- an outgoing call placed from the slot search (F7: the OSNP or a doctor phoning a
  doctor from the results): no other row knows that call, so its SIP ref, the number
  and the doctor called are kept here (``placed_ref``, ``placed_number``, ``placed_to``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("cb_attempts.id"), unique=True)
    #: A call placed from the slot search: its SIP Call-ID, the number, who was called.
    placed_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    placed_number: Mapped[str] = mapped_column(String(32), default="")
    placed_to: Mapped[str] = mapped_column(String(255), default="")
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: What the desk declared; the stored file must hash to it.
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    #: "uploading" until the whole file is there and its hash checked, then "stored".
    state: Mapped[str] = mapped_column(String(16))
    #: Relative to the hub's recordings store ("" while uploading).
    stored_name: Mapped[str] = mapped_column(String(255), default="")
    #: When the upload was declared; for a call placed from the search, when it was
    #: answered (the desk's time, never in the hub's future).
    started_at: Mapped[datetime]
    stored_at: Mapped[datetime | None]
