"""Who did what and when on the current dossier, in French."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtWidgets import QListWidget, QWidget

from app.callback.vocab import AppointmentStatus
from app.domain.enums import Decision, Priority, Queue, TaskOutcome, Track
from app.hub.events import EventName
from app.recordings.protocol import Kind
from ui.psc_text import AUTH

_TEXT = {
    EventName.DOSSIER_OPENED: "Appel décroché, dossier ouvert",
    EventName.DOSSIER_UPDATED: "Dossier complété",
    EventName.DOSSIER_QUALIFIED: "Priorité posée",
    EventName.DOSSIER_TAKEN: "Pris en charge",
    EventName.DOSSIER_RELEASED: "Remis en file",
    EventName.DOSSIER_FORWARDED: "Transmis au médecin AMU",
    EventName.DOSSIER_TRACK_MOVED: "Changement de filière",
    EventName.DOSSIER_DECIDED: "Décision médicale",
    EventName.DOSSIER_NOTE: "Note",
    EventName.DOSSIER_CLOSED: "Dossier clôturé",
    EventName.DOSSIER_AGENDA_BOOKING: "Réservation sur l'agenda de l'éditeur",
    EventName.DOSSIER_AGENDA_LATE: "Toujours en attente de l'agenda",
    EventName.APPOINTMENT_ATTACHED: "Rendez-vous rattaché",
    EventName.TASK_CREATED: "Recherche de RDV créée (échéance 48 h)",
    EventName.TASK_TAKEN: "Recherche de RDV prise par l'OSNP",
    EventName.TASK_CANCELLED: "Recherche de RDV annulée",
    EventName.TASK_CLOSED: "Recherche de RDV terminée",
    EventName.TASK_REOPENED: "Recherche de RDV rouverte",
    EventName.CALL_RECORDED: "Enregistrement de l'appel archivé",
    EventName.RECORDING_OPENED: "Enregistrement de l'appel écouté",
    EventName.CALLBACK_PLAN_BUILT: "Plan de rappel établi",
    EventName.CALLBACK_TARGET_ADDED: "Correspondant ajouté au plan",
    EventName.CALLBACK_TARGET_SKIPPED: "Correspondant passé",
    EventName.CALLBACK_PLAN_REORDERED: "Plan de rappel réordonné",
    EventName.CALLBACK_ATTEMPT: "Appel d'un médecin",
    EventName.CALLBACK_APPOINTMENT: "RDV obtenu",
    EventName.CALLBACK_APPOINTMENT_STATUS: "Suivi du RDV",
    EventName.CALLBACK_LETTER_MADE: "Courrier au médecin traitant produit",
    EventName.CALLBACK_REMINDER: "Rappel à effectuer maintenant",
    EventName.CALLBACK_DEADLINE_NEAR: "Échéance de 48 h proche",
    EventName.CALLBACK_OUTSIDE_HOURS: "Recherche ouverte hors horaires du SAS",
}


FIELD_LABELS = {
    "patient_last_name": "nom",
    "patient_first_name": "prénom",
    "patient_sex": "sexe",
    "patient_age": "âge",
    "patient_birth_date": "date de naissance",
    "callback_number": "n° de rappel",
    "commune_insee": "commune",
    "commune_name": "commune",
    "address": "adresse",
    "motif": "motif",
    "notes": "notes",
    "treating_doctor": "médecin traitant",
}


def recorded_call(data: dict[str, Any]) -> str:
    """Which of the dossier's calls a recording is of (a dossier may have several)."""
    kind = data.get("kind")  # recording.opened; call.recorded says it by its fields
    if kind is None and "sha256" in data:
        kind = (
            Kind.CALLBACK
            if "attempt_id" in data
            else Kind.PLACED
            if "callee" in data
            else Kind.INCOMING
        )
    if kind == Kind.PLACED:
        who = data.get("callee") or data.get("number") or ""
        return " (appel passé depuis la recherche" + (f", à {who})" if who else ")")
    if kind == Kind.CALLBACK:
        return " (rappel d'un médecin par l'OSNP)"
    return " (appel entrant)" if kind == Kind.INCOMING else ""


def attached(data: dict[str, Any]) -> str:
    """An agenda's appointment put on the dossier: whose, when, from where, and how."""
    ap = data.get("appointment") or {}
    source = "plateforme SAS" if ap.get("source") == "platform" else "agenda de l'éditeur"
    who = (ap.get("effecteur") or {}).get("name") or "médecin"
    when = ""
    if ap.get("start"):
        when = datetime.fromisoformat(ap["start"]).astimezone().strftime(" le %d/%m à %H:%M")
    how = "automatiquement" if data.get("automatic") else "depuis le tableau"
    return f" : {who}{when} ({source}, {how})"


def describe(entry: Mapping[str, Any]) -> str:
    data = entry.get("data") or {}
    kind = entry["type"]
    text = _TEXT.get(kind, kind)
    if kind == EventName.DOSSIER_QUALIFIED:
        prio = Priority(data["priority"]).label
        where = f" → {Queue(data['queue']).label}" if data.get("queue") else ""
        text += f" : {prio}{where}" + (" (départ réflexe)" if data.get("reflex") else "")
    elif kind == EventName.DOSSIER_TRACK_MOVED:
        text += f" : {Track(data['from_track']).label} → {Track(data['to_track']).label}"
        if data.get("reason"):
            text += f" ({data['reason']})"
    elif kind == EventName.DOSSIER_DECIDED:
        text += f" : {Decision(data['decision']).label}, {data.get('care_level')}"
    elif kind == EventName.DOSSIER_UPDATED:
        names = {FIELD_LABELS.get(f, f) for f in data.get("fields", {})}
        text += " : " + ", ".join(sorted(names))
    elif kind == EventName.DOSSIER_NOTE:
        text += f" : {data.get('text')}"
    elif kind == EventName.TASK_CLOSED and data.get("outcome"):
        text += f" : {TaskOutcome(data['outcome']).label}"
    elif kind in (EventName.CALL_RECORDED, EventName.RECORDING_OPENED):
        text += recorded_call(data)
    elif kind in (EventName.DOSSIER_AGENDA_BOOKING, EventName.DOSSIER_AGENDA_LATE):
        text += f" : {data.get('message', '')}"
    elif kind == EventName.APPOINTMENT_ATTACHED:
        text += attached(data)
    elif kind == EventName.CALLBACK_APPOINTMENT_STATUS and data.get("status"):
        # the OSNP's, or the agenda's own (no actor, its note says which agenda)
        text += f" : {AppointmentStatus(data['status']).label}"
        if data.get("note"):
            text += f" ({data['note']})"
    elif kind == EventName.DOSSIER_TAKEN and data.get("waited_seconds") is not None:
        text += f" après {int(data['waited_seconds'])} s d'attente"
    when = datetime.fromisoformat(entry["at"]).astimezone().strftime("%H:%M:%S")
    who = f" — {entry['actor']}" if entry.get("actor") else ""
    return f"{when}  {text}{who}{proven(data.get('decided_by'))}"


def proven(decided_by: Any) -> str:
    """A medical decision says who took it: the doctor's national identifier and how their
    session was proven (the hub records both with the decision)."""
    if not isinstance(decided_by, dict):
        return ""
    auth = str(decided_by.get("auth") or "?")
    nid = decided_by.get("national_id")
    who = f"identifiant national {nid}" if nid else "sans identifiant national"
    return f" ({who}, connecté par {AUTH.get(auth, auth)})"


class Timeline(QListWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setWordWrap(True)

    def show_entries(self, entries: Sequence[Mapping[str, Any]]) -> None:
        self.clear()
        for entry in entries:
            self.addItem(describe(entry))
        self.scrollToBottom()

    def add_entry(self, entry: Mapping[str, Any]) -> None:
        self.addItem(describe(entry))
        self.scrollToBottom()
