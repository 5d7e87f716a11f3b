"""Reading the audit trail back: by dossier, by user, since a date (CLI and desk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit.protocol import ReadRow
from app.db.audit import AuditRead
from app.hub.protocol import IntentName

#: What each audited intent means, for people reading the trail.
INTENT_LABELS: dict[str, str] = {
    IntentName.DOSSIER_GET: "consultation du dossier et de sa chronologie",
    IntentName.CALLBACK_SCRIPT: "script de rappel (données du patient)",
    IntentName.CALLBACK_PATIENT_TEXT: "message au patient",
    IntentName.CALLBACK_LETTER: "courrier au médecin traitant (export PDF)",
    IntentName.DOSSIER_EXPORT: "export du dossier (RS-EDA ou RDV FHIR)",
    IntentName.APPOINTMENT_PLATFORM_SEARCH: "recherche sur la plateforme SAS (adresse du patient)",
    IntentName.RECORDING_OPEN: "écoute de l'enregistrement",
    "retention.purge": "suppression (conservation échue)",
    IntentName.RECORDING_READ: "écoute de l'enregistrement (lecture directe)",
    IntentName.RECORDING_LIST: "liste des enregistrements (appels, correspondants)",
}


@dataclass(frozen=True)
class AuditQuery:
    #: A dossier's id (digits) or number (20261124-000123).
    dossier: str | None = None
    username: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    refused_only: bool = False
    before_id: int | None = None
    limit: int = 200


def find_reads(session: Session, q: AuditQuery) -> tuple[list[AuditRead], bool]:
    """Newest first; the flag says whether older rows remain (page with before_id)."""
    stmt = select(AuditRead).order_by(AuditRead.id.desc()).limit(q.limit + 1)
    if q.dossier:
        key = q.dossier.strip()
        match = AuditRead.dossier_number == key
        stmt = stmt.where(or_(match, AuditRead.dossier_id == int(key)) if key.isdigit() else match)
    if q.username:
        stmt = stmt.where(AuditRead.username == q.username)
    if q.since is not None:
        stmt = stmt.where(AuditRead.at >= q.since)
    if q.until is not None:
        stmt = stmt.where(AuditRead.at < q.until)
    if q.refused_only:
        stmt = stmt.where(AuditRead.granted.is_(False))
    if q.before_id is not None:
        stmt = stmt.where(AuditRead.id < q.before_id)
    rows = list(session.scalars(stmt))
    return rows[: q.limit], len(rows) > q.limit


def read_view(row: AuditRead) -> ReadRow:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "username": row.username,
        "role": row.role,
        "desk": row.desk,
        "dossier_id": row.dossier_id,
        "dossier_number": row.dossier_number,
        "intent": row.intent,
        "label": INTENT_LABELS.get(row.intent, row.intent),
        "granted": row.granted,
        "detail": row.detail,
    }
