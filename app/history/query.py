"""The two reads of the history, as plain queries (the hub and the bench run the same).

Both stay on an index with a million dossiers: the caller's history on
(caller_number, answered_at), the search on answered_at, the dossier number (unique)
or lower(last name), lower(first name) — see app.history.models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.db.models import Dossier
from app.hub.views import iso

#: Rows a search or a history list returns at most (newest first).
MAX_ROWS = 50


@dataclass(frozen=True)
class CallerHistory:
    count: int
    dossiers: list[Dossier]  # newest first, at most ``limit``


def caller_history(
    s: Session, number: str, now: datetime, days: int, limit: int = MAX_ROWS
) -> CallerHistory:
    """Dossiers of the calls from ``number`` answered in the last ``days`` days."""
    since = now - timedelta(days=days)
    where = (Dossier.caller_number == number, Dossier.answered_at >= since)
    count = s.scalar(select(func.count()).select_from(Dossier).where(*where)) or 0
    rows = (
        s.scalars(select(Dossier).where(*where).order_by(Dossier.answered_at.desc()).limit(limit))
        .unique()
        .all()
        if count
        else []
    )
    return CallerHistory(int(count), list(rows))


@dataclass(frozen=True)
class Search:
    """What a reader typed; empty fields do not filter. At least one must be given."""

    phone: str = ""
    name: str = ""  # "last name" or "last name first name", case-insensitive prefixes
    number: str = ""  # the DRM (dossier) number, exact
    since: date | None = None
    until: date | None = None  # inclusive

    def empty(self) -> bool:
        return not (self.phone or self.name or self.number or self.since or self.until)


def _prefix(column: Any, text: str) -> Any:
    """``lower(column)`` starts with ``text``, as a range the expression index serves."""
    low = text.lower()
    return (func.lower(column) >= low) & (func.lower(column) < low + "\U0010ffff")


def search_statement(q: Search, limit: int = MAX_ROWS) -> Select[Dossier]:
    stmt = select(Dossier)
    if q.number:
        stmt = stmt.where(Dossier.number == q.number)
    if q.phone:
        stmt = stmt.where(Dossier.caller_number == q.phone)
    if q.name:
        last, _, first = q.name.strip().partition(" ")
        stmt = stmt.where(_prefix(Dossier.patient_last_name, last))
        if first.strip():
            stmt = stmt.where(_prefix(Dossier.patient_first_name, first.strip()))
    if q.since is not None:
        stmt = stmt.where(Dossier.answered_at >= datetime.combine(q.since, time(), UTC))
    if q.until is not None:
        end = datetime.combine(q.until + timedelta(days=1), time(), UTC)
        stmt = stmt.where(Dossier.answered_at < end)
    return stmt.order_by(Dossier.answered_at.desc(), Dossier.id.desc()).limit(limit)


def search_dossiers(s: Session, q: Search, limit: int = MAX_ROWS) -> list[Dossier]:
    return list(s.scalars(search_statement(q, limit)).unique().all())


def summary_view(d: Dossier, linked_to: int | None = None) -> dict[str, Any]:
    """What a list of earlier dossiers shows: enough to recognise the patient and what
    was decided; the whole dossier is opened with dossier.get."""
    return {
        "id": d.id,
        "number": d.number,
        "answered_at": iso(d.answered_at),
        "caller_number": d.caller_number,
        "status": d.status,
        "priority": d.priority,
        "decision": d.decision,
        "patient_last_name": d.patient_last_name,
        "patient_first_name": d.patient_first_name,
        "patient_birth_date": iso(d.patient_birth_date),
        "patient_age": d.patient_age,
        "commune_name": d.commune_name,
        "motif": d.motif[:200],
        "same_patient_as": linked_to,
    }
