"""Queue and task models as the desks show them (French columns)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.domain.enums import ConsultationType, DossierStatus, Line, Queue, TaskStatus
from ui.models.rows import Column, Row, RowTableModel, elapsed, parse_time

PRIORITY_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


def patient_label(row: Row) -> str:
    name = " ".join(p for p in (row.get("patient_first_name"), row.get("patient_last_name")) if p)
    age = row.get("patient_age")
    return f"{name}, {age} ans" if name and age is not None else name or "—"


def line_label(row: Row) -> str:
    try:
        return Line(row["line"]).label
    except ValueError:
        return str(row.get("line") or "")


def queue_model(queues: set[Queue], parent: Any = None) -> RowTableModel:
    """Dossiers waiting in any of ``queues``: most urgent first, then longest wait."""
    names = {str(q) for q in queues}

    def accept(row: Row) -> bool:
        return row.get("status") == DossierStatus.QUEUED and row.get("queue") in names

    def key(row: Row) -> tuple[int, str]:
        return (PRIORITY_RANK.get(row.get("priority") or "", 9), row.get("queued_at") or "")

    columns = [
        Column(
            "Priorité", lambda r: ("⚡ " if r.get("reflex") else "") + (r.get("priority") or "")
        ),
        Column("Attente", lambda r: elapsed(r.get("queued_at")), ticking=True),
        Column("Ligne", line_label),
        Column("Patient", patient_label),
        Column("Commune", lambda r: r.get("commune_name")),
        Column("Motif", lambda r: r.get("motif"), tooltip=lambda r: r.get("motif") or ""),
        Column("File", lambda r: Queue(r["queue"]).label if r.get("queue") else ""),
        Column("N° DRM", lambda r: r.get("number")),
    ]
    return RowTableModel(columns, accept, key, parent)


def my_dossiers_model(user_id: int, parent: Any = None) -> RowTableModel:
    """Dossiers this desk holds or opened and that are not closed."""

    def accept(row: Row) -> bool:
        owner = row.get("owner") or {}
        mine = owner.get("id") == user_id or row.get("opened_by_id") == user_id
        return mine and row.get("status") != DossierStatus.CLOSED

    columns = [
        Column("N° DRM", lambda r: r.get("number")),
        Column("Statut", lambda r: DossierStatus(r["status"]).label),
        Column("Priorité", lambda r: r.get("priority") or "—"),
        Column("Patient", patient_label),
        Column("Depuis", lambda r: elapsed(r.get("answered_at")), ticking=True),
    ]
    return RowTableModel(columns, accept, lambda r: r.get("answered_at") or "", parent)


def deadline_left(row: Row) -> str:
    deadline = parse_time(row.get("deadline_at"))
    if deadline is None:
        return ""
    seconds = int((deadline - datetime.now(UTC)).total_seconds())
    if seconds < 0:
        return "DÉPASSÉ"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}"


def task_model(parent: Any = None) -> RowTableModel:
    """OSNP tasks still open, nearest deadline first."""

    def accept(row: Row) -> bool:
        return row.get("status") != TaskStatus.DONE

    columns = [
        Column("Échéance", deadline_left, ticking=True),
        Column(
            "Patient",
            lambda r: ", ".join(
                p
                for p in (
                    r.get("patient"),
                    f"{r['patient_age']} ans" if r.get("patient_age") is not None else "",
                )
                if p
            ),
        ),
        Column("Commune", lambda r: r.get("commune_name")),
        Column("Type", lambda r: ConsultationType(r["consultation_type"]).label),
        # Whom the regulating doctor asked for (a nurse, a paediatrician…).
        Column("Professionnel", lambda r: r.get("wanted_label") or "Médecin généraliste"),
        Column("Motif", lambda r: r.get("motif"), tooltip=lambda r: r.get("motif") or ""),
        Column("Statut", lambda r: TaskStatus(r["status"]).label),
        Column("OSNP", lambda r: (r.get("owner") or {}).get("name", "")),
        Column("N° DRM", lambda r: r.get("dossier_number")),
    ]
    return RowTableModel(columns, accept, lambda r: r.get("deadline_at") or "", parent)
