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
from app.history.protocol import MAX_ROWS, DossierSummary
from app.hub.views import iso


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


#: A name matching more dossiers than this is read newest first along the date index,
#: filtered by name (a common name meets 50 matches soon); fewer are read through the
#: name index and sorted (a rare name would make the date walk long).
WALK_AFTER = 1000


def _prefix(column: Any, text: str, *, walk: bool = False) -> Any:
    """``lower(column)`` starts with ``text``, as a range the expression index serves;
    ``walk``: written so that no index matches it (``|| ''``), the date index leads."""
    low = text.lower()
    expr: Any = func.lower(column)
    if walk:
        expr = expr.concat("")
    return (expr >= low) & (expr < low + "\U0010ffff")


def _name_parts(name: str) -> tuple[str, str]:
    last, _, first = name.strip().partition(" ")
    return last, first.strip()


def name_matches(s: Session, name: str) -> int:
    """How many dossiers this name prefix matches (read from the name index alone)."""
    last, first = _name_parts(name)
    where = _prefix(Dossier.patient_last_name, last)
    if first:
        where = where & _prefix(Dossier.patient_first_name, first)
    return int(s.scalar(select(func.count()).select_from(Dossier).where(where)) or 0)


def search_statement(q: Search, limit: int = MAX_ROWS, *, walk: bool = False) -> Select[Dossier]:
    stmt = select(Dossier)
    if q.number:
        stmt = stmt.where(Dossier.number == q.number)
    if q.phone:
        stmt = stmt.where(Dossier.caller_number == q.phone)
    if q.name:
        last, first = _name_parts(q.name)
        stmt = stmt.where(_prefix(Dossier.patient_last_name, last, walk=walk))
        if first:
            stmt = stmt.where(_prefix(Dossier.patient_first_name, first, walk=walk))
    if q.since is not None:
        stmt = stmt.where(Dossier.answered_at >= datetime.combine(q.since, time(), UTC))
    if q.until is not None:
        end = datetime.combine(q.until + timedelta(days=1), time(), UTC)
        stmt = stmt.where(Dossier.answered_at < end)
    return stmt.order_by(Dossier.answered_at.desc(), Dossier.id.desc()).limit(limit)


def search_dossiers(s: Session, q: Search, limit: int = MAX_ROWS) -> list[Dossier]:
    walk = bool(q.name and not (q.number or q.phone) and name_matches(s, q.name) > WALK_AFTER)
    return list(s.scalars(search_statement(q, limit, walk=walk)).unique().all())


def summary_view(d: Dossier, linked_to: int | None = None) -> DossierSummary:
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
