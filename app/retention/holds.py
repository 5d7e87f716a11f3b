"""Suspending a dossier's deadline: a claim or a court case keeps it (and its recording)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Dossier
from app.db.types import utcnow
from app.retention.models import RetentionHold


class HoldError(Exception):
    """A French message for the administrator."""


def _dossier(s: Session, key: str) -> Dossier:
    key = key.strip()
    match = Dossier.number == key
    d = s.scalar(
        select(Dossier).where(or_(match, Dossier.id == int(key)) if key.isdigit() else match)
    )
    if d is None:
        raise HoldError(f"dossier {key} introuvable")
    return d


def place_hold(sessions: sessionmaker[Session], key: str, reason: str, actor: str) -> str:
    if not reason.strip():
        raise HoldError("précisez le motif (--reason), par exemple la référence du recours")
    with sessions.begin() as s:
        d = _dossier(s, key)
        if s.get(RetentionHold, d.id) is not None:
            raise HoldError(f"le dossier {d.number} est déjà conservé")
        s.add(
            RetentionHold(
                dossier_id=d.id, reason=reason.strip(), placed_at=utcnow(), placed_by=actor
            )
        )
        return f"dossier {d.number} conservé jusqu'à la levée de la suspension"


def release_hold(sessions: sessionmaker[Session], key: str) -> str:
    with sessions.begin() as s:
        d = _dossier(s, key)
        hold = s.get(RetentionHold, d.id)
        if hold is None:
            raise HoldError(f"le dossier {d.number} n'est pas suspendu")
        s.delete(hold)
        return f"suspension levée pour le dossier {d.number}"


def list_holds(sessions: sessionmaker[Session]) -> str:
    with sessions() as s:
        rows = s.execute(
            select(RetentionHold, Dossier.number)
            .join(Dossier, Dossier.id == RetentionHold.dossier_id)
            .order_by(RetentionHold.placed_at)
        ).all()
        if not rows:
            return "Aucun dossier suspendu."
        return "\n".join(
            f"{number}\t{hold.placed_at:%d/%m/%Y}\t{hold.placed_by}\t{hold.reason}"
            for hold, number in rows
        )
