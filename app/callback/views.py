"""Wire views of the call-back entities (JSON-ready dicts)."""

from __future__ import annotations

from app.callback.models import Appointment, CallbackAttempt, CallbackTarget
from app.callback.protocol import AppointmentView, AttemptView, TargetView
from app.callback.vocab import AppointmentStatus, AttemptResult, TargetKind, TargetStatus
from app.hub.views import iso


def target_view(t: CallbackTarget) -> TargetView:
    return {
        "id": t.id,
        "task_id": t.task_id,
        "position": t.position,
        "kind": t.kind,
        "kind_label": TargetKind(t.kind).label,
        "status": t.status,
        "status_label": TargetStatus(t.status).label,
        "effecteur_id": t.effecteur_id,
        "name": t.name,
        "phone_direct": t.phone_direct,
        "phone_secretary": t.phone_secretary,
        "place": t.place,
        "conditions": t.conditions,
        "slot_id": t.slot_id,
        "slot_start": iso(t.slot_start),
        "slot_type": t.slot_type,
        "distance_km": t.distance_km,
        "why": t.why,
        "skip_reason": t.skip_reason,
        "retry_at": iso(t.retry_at),
        "added_by_id": t.added_by_id,
    }


def attempt_view(a: CallbackAttempt) -> AttemptView:
    return {
        "id": a.id,
        "task_id": a.task_id,
        "target_id": a.target_id,
        "by_id": a.by_id,
        "at": iso(a.at),
        "number": a.number,
        "call_ref": a.call_ref,
        "duration_seconds": a.duration_seconds,
        "recording_path": a.recording_path,
        "result": a.result,
        "result_label": AttemptResult(a.result).label,
        "refusal_reason": a.refusal_reason,
        "call_back_at": iso(a.call_back_at),
        "note": a.note,
    }


def appointment_view(a: Appointment) -> AppointmentView:
    return {
        "id": a.id,
        "task_id": a.task_id,
        "dossier_id": a.dossier_id,
        "target_id": a.target_id,
        "effecteur_id": a.effecteur_id,
        "booking_id": a.booking_id,
        "outcome": a.outcome,
        "doctor": a.doctor_name,
        "is_treating_doctor": a.is_treating_doctor,
        "at": iso(a.at),
        "place": a.place,
        "consultation_type": a.consultation_type,
        "status": a.status,
        "status_label": AppointmentStatus(a.status).label,
        "status_at": iso(a.status_at),
        "regulated_at": iso(a.regulated_at),
        "note": a.note,
    }
