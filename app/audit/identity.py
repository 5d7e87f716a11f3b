"""Who was at the desk: the sessions with how they were proven (password, Pro Santé
Connect, the password fallback and its reason), and the medical decisions with the
deciding doctor's national identifier (``sasdesk audit --logins`` / ``--decisions``)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from app.audit.query import AuditQuery
from app.db.models import Dossier, LoginSession, User

S = TypeVar("S", bound=Select)

#: How a session was proven, for people reading the trail.
AUTH_LABELS = {
    "password": "mot de passe",
    "psc": "Pro Santé Connect",
    "password_fallback": "mot de passe de secours (PSC injoignable)",
}


def _between(stmt: S, column: Any, q: AuditQuery) -> S:
    """The query's period (--since, --until) on ``column``."""
    if q.since is not None:
        stmt = stmt.where(column >= q.since)
    if q.until is not None:
        stmt = stmt.where(column < q.until)
    return stmt


def find_logins(session: Session, q: AuditQuery) -> tuple[list[dict[str, Any]], bool]:
    """Sessions, newest first; the flag says whether older ones remain."""
    stmt = select(LoginSession).order_by(LoginSession.id.desc()).limit(q.limit + 1)
    if q.username:
        stmt = stmt.join(User, User.id == LoginSession.user_id).where(User.username == q.username)
    rows = list(session.scalars(_between(stmt, LoginSession.created_at, q)).unique())
    views = [
        {
            "at": row.created_at.isoformat(),
            "username": row.user.username,
            "role": row.user.role,
            "desk": row.desk,
            "national_id": row.national_id,
            "auth": row.auth,
            "auth_label": AUTH_LABELS.get(row.auth, row.auth),
            "fallback_reason": row.fallback_reason,
            "ended": row.ended_reason if row.revoked else "",
        }
        for row in rows[: q.limit]
    ]
    return views, len(rows) > q.limit


def find_decisions(session: Session, q: AuditQuery) -> tuple[list[dict[str, Any]], bool]:
    """Decided dossiers, newest decision first, with who decided and how they logged in."""
    doctor = aliased(User)
    stmt = (
        select(Dossier, doctor.username)
        .join(doctor, doctor.id == Dossier.decided_by_id)
        .where(Dossier.decided_at.is_not(None))
        .order_by(Dossier.decided_at.desc(), Dossier.id.desc())
        .limit(q.limit + 1)
    )
    if q.username:
        stmt = stmt.where(doctor.username == q.username)
    if q.dossier:
        stmt = stmt.where(Dossier.number == q.dossier.strip())
    rows = list(session.execute(_between(stmt, Dossier.decided_at, q)).all())
    views = [
        {
            "at": d.decided_at.isoformat() if d.decided_at else "",
            "dossier_number": d.number,
            "username": username,
            "national_id": d.decided_national_id or "",
            "auth": d.decided_auth or "password",
            "auth_label": AUTH_LABELS.get(d.decided_auth or "password", d.decided_auth),
            "decision": d.decision,
            "orientation": d.orientation or "",
        }
        for d, username in rows[: q.limit]
    ]
    return views, len(rows) > q.limit
