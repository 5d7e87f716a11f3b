"""Who did what and when on the current dossier, in French."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import QListWidget, QWidget

from app.domain.enums import Decision, Priority, Queue, TaskOutcome, Track

_TEXT = {
    "dossier.opened": "Appel décroché, dossier ouvert",
    "dossier.updated": "Dossier complété",
    "dossier.qualified": "Priorité posée",
    "dossier.taken": "Pris en charge",
    "dossier.released": "Remis en file",
    "dossier.forwarded": "Transmis au médecin AMU",
    "dossier.track_moved": "Changement de filière",
    "dossier.decided": "Décision médicale",
    "dossier.note": "Note",
    "dossier.closed": "Dossier clôturé",
    "task.created": "Recherche de RDV créée (échéance 48 h)",
    "task.taken": "Recherche de RDV prise par l'OSNP",
    "task.cancelled": "Recherche de RDV annulée",
    "task.closed": "Recherche de RDV terminée",
    "task.reopened": "Recherche de RDV rouverte",
    "call.recorded": "Enregistrement de l'appel archivé",
    "recording.opened": "Enregistrement de l'appel écouté",
    "callback.plan_built": "Plan de rappel établi",
    "callback.target_added": "Correspondant ajouté au plan",
    "callback.target_skipped": "Correspondant passé",
    "callback.plan_reordered": "Plan de rappel réordonné",
    "callback.attempt": "Appel d'un médecin",
    "callback.appointment": "RDV obtenu",
    "callback.appointment_status": "Suivi du RDV",
    "callback.letter_made": "Courrier au médecin traitant produit",
    "callback.reminder": "Rappel à effectuer maintenant",
    "callback.deadline_near": "Échéance de 48 h proche",
    "callback.outside_hours": "Recherche ouverte hors horaires du SAS",
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


def describe(entry: dict[str, Any]) -> str:
    data = entry.get("data") or {}
    kind = entry["type"]
    text = _TEXT.get(kind, kind)
    if kind == "dossier.qualified":
        prio = Priority(data["priority"]).label
        where = f" → {Queue(data['queue']).label}" if data.get("queue") else ""
        text += f" : {prio}{where}" + (" (départ réflexe)" if data.get("reflex") else "")
    elif kind == "dossier.track_moved":
        text += f" : {Track(data['from_track']).label} → {Track(data['to_track']).label}"
        if data.get("reason"):
            text += f" ({data['reason']})"
    elif kind == "dossier.decided":
        text += f" : {Decision(data['decision']).label}, {data.get('care_level')}"
    elif kind == "dossier.updated":
        names = {FIELD_LABELS.get(f, f) for f in data.get("fields", {})}
        text += " : " + ", ".join(sorted(names))
    elif kind == "dossier.note":
        text += f" : {data.get('text')}"
    elif kind == "task.closed" and data.get("outcome"):
        text += f" : {TaskOutcome(data['outcome']).label}"
    elif kind == "dossier.taken" and data.get("waited_seconds") is not None:
        text += f" après {int(data['waited_seconds'])} s d'attente"
    when = datetime.fromisoformat(entry["at"]).astimezone().strftime("%H:%M:%S")
    who = f" — {entry['actor']}" if entry.get("actor") else ""
    return f"{when}  {text}{who}"


class Timeline(QListWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setWordWrap(True)

    def show_entries(self, entries: list[dict[str, Any]]) -> None:
        self.clear()
        for entry in entries:
            self.addItem(describe(entry))
        self.scrollToBottom()

    def add_entry(self, entry: dict[str, Any]) -> None:
        self.addItem(describe(entry))
        self.scrollToBottom()
