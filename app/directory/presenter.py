"""What the search panel shows for a doctor, in French, as the national platform does.

Pure functions over the ``directory.search`` reply, so the Qt panel only lays out
strings and the wording is tested without Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.directory.vocab import PARIS, TYPE_LABELS, WEEKLY_SNP_CAP
from app.domain.enums import ConsultationType

_DAYS = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")
NO_SLOT = "Pas de créneau disponible"
BEYOND = "ORIENTATION HORS DISPONIBILITÉ"


def hm(at: datetime) -> str:
    return at.astimezone(PARIS).strftime("%Hh%M")


def day_label(day: date, now: datetime) -> str:
    today = now.astimezone(PARIS).date()
    delta = (day - today).days
    if delta == 0:
        return f"Aujourd'hui {_DAYS[day.weekday()]} {day.day}"
    if delta == 1:
        return f"Demain {_DAYS[day.weekday()]} {day.day}"
    return f"{_DAYS[day.weekday()]} {day.day}"


def slot_label(slot: dict[str, Any]) -> str:
    """``16h45 - 18h00 · 0/5`` for a range, ``14h45`` for a slot; the type if not cabinet."""
    start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
    text = f"{hm(start)} - {hm(end)} · {slot['places']}" if slot.get("is_range") else hm(start)
    if slot.get("type") and slot["type"] != ConsultationType.CABINET:
        text += f" · {TYPE_LABELS[ConsultationType(slot['type'])]}"
    return text


@dataclass
class Card:
    title: str
    subtitle: str
    badges: list[str]
    days: list[tuple[str, list[str]]]
    conditions: str
    phones: list[tuple[str, str]]  # (label, number) for click-to-call
    cap: str
    warnings: list[str] = field(default_factory=list)
    #: Per practice place: the agenda connected to the SAS, and through which editor.
    agendas: list[str] = field(default_factory=list)


def card(doctor: Mapping[str, Any], now: datetime) -> Card:
    badges = ["Participant SAS" if doctor.get("sas_participant") else "Non participant SAS"]
    if doctor.get("structure"):
        badges.append(f"{doctor.get('mode', '')} · {doctor['structure']}".strip(" ·"))
    else:
        badges.append(str(doctor.get("mode") or "individuel").capitalize())
    badges.append(
        "Réservation directe" if doctor.get("direct_booking") else "Appeler pour confirmer"
    )
    if doctor.get("accepts_beyond_slots"):
        badges.append("Accepte hors disponibilité")
    if doctor.get("tier") in (0, 1):
        badges.insert(0, str(doctor.get("tier_label", "")))
    where = doctor.get("commune") or ""
    if doctor.get("distance_km") is not None:
        where = f"{where} · {str(doctor['distance_km']).replace('.', ',')} km".strip(" ·")
    days = []
    for day in doctor.get("days", []):
        labels = [slot_label(s) for s in day["slots"]]
        if day.get("more"):
            labels.append(f"+{day['more']} autre(s)")
        days.append((day_label(date.fromisoformat(day["date"]), now), labels or [NO_SLOT]))
    phones = [
        (label, doctor[key])
        for label, key in (
            ("Direct", "phone_direct"),
            ("Secrétariat", "phone_secretary"),
            ("Structure", "structure_phone"),
        )
        if doctor.get(key)
    ]
    count = doctor.get("weekly_snp")
    cap = f"SNP cette semaine : {count}/{WEEKLY_SNP_CAP}" if count is not None else ""
    warnings = []
    if count is not None and count >= WEEKLY_SNP_CAP:
        warnings.append("plafond hebdomadaire de patients SNP atteint")
    if doctor.get("absent_until"):
        until = datetime.fromisoformat(doctor["absent_until"]).astimezone(PARIS)
        warnings.append(
            f"absent jusqu'au {until:%d/%m à %Hh%M}"
            + (f" ({doctor['absence_reason']})" if doctor.get("absence_reason") else "")
        )
    if doctor.get("mt_ambiguous"):
        warnings.append("plusieurs médecins portent ce nom : vérifiez le médecin traitant")
    agendas = [
        f"{p.get('name') or p.get('commune') or 'Lieu'} — agenda {p['agenda_label']}"
        for p in doctor.get("practices") or []
        if p.get("agenda_label")
    ]
    return Card(
        agendas=agendas,
        title=str(doctor.get("name", "")),
        subtitle=f"{doctor.get('specialty', '')} · {where}".strip(" ·"),
        badges=badges,
        days=days,
        conditions=str(doctor.get("conditions") or ""),
        phones=phones,
        cap=cap,
        warnings=warnings,
    )


def cpts_card(cpts: Mapping[str, Any]) -> Card:
    """The CPTS whose ROR zone covers the patient's commune, shown above its doctors."""
    ident = f" · FINESS/ROR {cpts['national_id']}" if cpts.get("national_id") else ""
    count = len(cpts.get("participants") or [])
    return Card(
        title=str(cpts.get("name", "")),
        subtitle=f"CPTS couvrant la commune du patient{ident}",
        badges=[f"{count} médecin(s) participant(s) via la CPTS"],
        days=[],
        conditions="",
        phones=[("Téléphone SNP de la CPTS", cpts["snp_phone"])] if cpts.get("snp_phone") else [],
        cap="",
        warnings=[] if cpts.get("snp_phone") else ["aucun téléphone SNP dans le ROR"],
    )
