"""Plain dict views of the entities, as sent on the wire (JSON-ready)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import overload

from app.db.models import Call, Dossier, Event, OsnpTask, User
from app.domain.professions import wanted_label
from app.hub.payloads import CallView, DecidedBy, DossierView, TaskView, TimelineEntry, UserView


@overload
def iso(value: datetime | date) -> str: ...
@overload
def iso(value: datetime | date | None) -> str | None: ...
def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


@overload
def user_view(user: User) -> UserView: ...
@overload
def user_view(user: User | None) -> UserView | None: ...
def user_view(user: User | None) -> UserView | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "national_id": user.national_id or "",
        "platform_id": user.platform_id or "",
    }


def call_view(call: Call) -> CallView:
    return {
        "id": call.id,
        "call_ref": call.call_ref,
        "line": call.line,
        "caller": call.caller,
        "offered_at": iso(call.offered_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "answered_by_id": call.answered_by_id,
        "end_reason": call.end_reason,
        "abandoned": call.abandoned,
        "desks_rung": call.desks_rung,
        "recording_path": call.recording_path,
    }


UserLookup = Callable[[int | None], UserView | None]


def dossier_view(d: Dossier, users: UserLookup) -> DossierView:
    return {
        "id": d.id,
        "number": d.number,
        "version": d.version,
        "line": d.line,
        "caller_number": d.caller_number,
        "call_id": d.call_id,
        "status": d.status,
        "priority": d.priority,
        "track": d.track,
        "queue": d.queue,
        "reflex": d.reflex,
        "owner": users(d.owner_id),
        "opened_by_id": d.opened_by_id,
        "ringing_at": iso(d.ringing_at),
        "answered_at": iso(d.answered_at),
        "qualified_at": iso(d.qualified_at),
        "queued_at": iso(d.queued_at),
        "taken_at": iso(d.taken_at),
        "decided_at": iso(d.decided_at),
        "closed_at": iso(d.closed_at),
        "updated_at": iso(d.updated_at),
        "patient_age": d.patient_age,
        "patient_birth_date": iso(d.patient_birth_date),
        "decision": d.decision,
        "care_level": d.care_level,
        "filiere": d.filiere,
        "orientation": d.orientation,
        "consultation_type": d.consultation_type,
        "means": d.means,
        "decision_comment": d.decision_comment,
        "decided_by_id": d.decided_by_id,
        "decided_by": decided_by_view(d),
        "close_reason": d.close_reason,
        "patient_last_name": d.patient_last_name,
        "patient_first_name": d.patient_first_name,
        "patient_sex": d.patient_sex,
        "callback_number": d.callback_number,
        "commune_insee": d.commune_insee,
        "commune_name": d.commune_name,
        "address": d.address,
        "motif": d.motif,
        "notes": d.notes,
        "treating_doctor": d.treating_doctor,
    }


def decided_by_view(d: Dossier) -> DecidedBy | None:
    """Who took the medical decision: their national identifier ("" without one) and how
    their session was proven (password, psc, password_fallback); None before a decision."""
    if d.decided_by_id is None:
        return None
    return {"national_id": d.decided_national_id or "", "auth": d.decided_auth or "password"}


def task_view(t: OsnpTask, users: UserLookup) -> TaskView:
    d = t.dossier
    return {
        "id": t.id,
        "dossier_id": t.dossier_id,
        "dossier_number": d.number,
        "patient": " ".join(p for p in (d.patient_first_name, d.patient_last_name) if p),
        "patient_age": d.patient_age,
        "commune_name": d.commune_name,
        "motif": d.motif,
        "callback_number": d.callback_number,
        "treating_doctor": d.treating_doctor,
        "status": t.status,
        "consultation_type": t.consultation_type,
        "profession": t.profession,
        "specialty": t.specialty,
        "wanted_label": wanted_label(t.profession, t.specialty),
        "created_at": iso(t.created_at),
        "deadline_at": iso(t.deadline_at),
        "owner": users(t.owner_id),
        "taken_at": iso(t.taken_at),
        "closed_at": iso(t.closed_at),
        "outcome": t.outcome,
        "appointment_with": t.appointment_with,
        "appointment_at": iso(t.appointment_at),
        "appointment_place": t.appointment_place,
        "no_solution_reason": t.no_solution_reason,
        "comment": t.comment,
    }


def timeline_entry(e: Event, actor_name: str | None) -> TimelineEntry:
    return {"seq": e.seq, "at": iso(e.at), "type": e.type, "actor": actor_name, "data": e.data}
