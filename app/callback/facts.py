"""The dossier's facts as the scripts, the patient text and the letter say them, in French."""

from __future__ import annotations

from datetime import date, datetime

from app.callback.models import Appointment, CallbackTarget
from app.callback.settings import Settings
from app.db.models import OsnpTask
from app.directory.vocab import PARIS
from app.domain.enums import ConsultationType
from app.geo import default_index
from app.stats.calendar import MONTH_NAMES

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = MONTH_NAMES  # one list of French month names (app/stats/calendar.py)
TYPE_WORDS = {
    ConsultationType.CABINET: "au cabinet",
    ConsultationType.TELECONSULTATION: "en téléconsultation",
    ConsultationType.VISITE: "en visite à domicile",
}


def day_text(at: datetime) -> str:
    """« mardi 24 novembre »."""
    local = at.astimezone(PARIS)
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}"


def hour_text(at: datetime) -> str:
    """« 14h30 », « 9h00 »."""
    local = at.astimezone(PARIS)
    return f"{local.hour}h{local.minute:02d}"


def when_text(at: datetime) -> str:
    return f"{day_text(at)} à {hour_text(at)}"


def long_date(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def age_text(age: int | None, birth: date | None, today: date) -> str:
    if birth is not None and age in (None, 0, 1):
        months = (
            (today.year - birth.year) * 12 + today.month - birth.month - (today.day < birth.day)
        )
        if months < 24:
            return f"{max(months, 0)} mois"
    if age is None:
        return "âge non précisé"
    return f"{age} an" if age == 1 else f"{age} ans"


def commune_name(name: str, insee: str) -> str:
    """The dossier's commune as people say it (the geodata knows every INSEE code)."""
    if name or not insee:
        return name or "commune non précisée"
    found = default_index().by_insee(insee)
    return found.name if found else insee


def dossier_facts(
    task: OsnpTask, settings: Settings, osnp_name: str, target: CallbackTarget | None, now: datetime
) -> dict[str, str]:
    d = task.dossier
    today = now.astimezone(PARIS).date()
    facts = {
        "osnp": osnp_name,
        "sas": settings.sas_name,
        "rappel_osnp": settings.osnp_phone,
        "patient_prenom": d.patient_first_name or "le patient",
        "patient_nom": d.patient_last_name,
        "motif": d.motif.strip() or "motif non précisé",
        "patient_age": age_text(d.patient_age, d.patient_birth_date, today),
        "commune": commune_name(d.commune_name, d.commune_insee),
        "echeance": when_text(task.deadline_at),
        "type_consultation": TYPE_WORDS[ConsultationType(task.consultation_type)],
        "numero_patient": d.callback_number,
        "dossier": d.number,
        "medecin_traitant": d.treating_doctor or "le médecin traitant",
        "medecin": "",
        "creneau": "",
        "conditions": "aucune",
    }
    if target is not None:
        facts["medecin"] = target.name
        facts["conditions"] = target.conditions or "aucune"
        if target.slot_start is not None:
            kind = TYPE_WORDS.get(ConsultationType(target.slot_type)) if target.slot_type else None
            facts["creneau"] = when_text(target.slot_start) + (f" ({kind})" if kind else "")
    return facts


def to_bring(appointment: Appointment, patient_age: int | None) -> str:
    items = ["votre carte Vitale", "vos ordonnances en cours"]
    if patient_age is not None and patient_age < 16:
        items.append("le carnet de santé")
    if appointment.consultation_type == ConsultationType.TELECONSULTATION:
        items = ["votre carte Vitale", "un téléphone ou un ordinateur avec caméra, chargé"]
    return ", ".join(items[:-1]) + " et " + items[-1]


def appointment_facts(appointment: Appointment, patient_age: int | None) -> dict[str, str]:
    ctype = ConsultationType(appointment.consultation_type)
    place = appointment.place
    if ctype is ConsultationType.TELECONSULTATION:
        place = place or "le médecin vous enverra le lien de connexion"
    return {
        "rdv_medecin": appointment.doctor_name,
        "rdv_jour": day_text(appointment.at),
        "rdv_heure": hour_text(appointment.at),
        "rdv_lieu": place or "lieu à préciser",
        "rdv_type": TYPE_WORDS[ctype],
        "a_apporter": to_bring(appointment, patient_age),
    }
