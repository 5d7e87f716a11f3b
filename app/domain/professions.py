"""Professions and specialties the SAS can orient a patient to, with their national codes.

Since the decree of 14 June 2024 (art. D. 6311-33) the SAS may send a patient to other
health professions than general practitioners (seed 001: nurses, midwives, dentists on
Sunday mornings, ophthalmology, paediatrics, psychiatry). The codes are those of the
national nomenclatures the RPPS extraction and the national directory use:

- professions: TRE-G15-ProfessionSante (10 médecin, 21 pharmacien, 40 chirurgien-dentiste,
  50 sage-femme, 60 infirmier, 70 masseur-kinésithérapeute…);
- medical specialties: TRE-R38-SpecialiteOrdinale (SM54 médecine générale, SM40
  pédiatrie, SM38 ophtalmologie, SM42 psychiatrie…).

The subset kept here is the ANS value set JDV_J239_SpecialitesSNP_SAS (urn:oid
1.2.250.1.213.3.4.104, version 20240126120000), "professions de santé participant au
Service d'Accès aux Soins", plus pharmacien (21); how the codes are queried is in
ansforge/annuaire-sante-fhir-documentation at commit 9f3d7d0d (docs/pages/guide/version-2/
resources/practitioner.md). The directory stores what the RPPS import writes (a code or
its label): ``profession_code`` and ``specialty_code`` read either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MEDECIN = "10"
DENTISTE = "40"
GENERAL_PRACTICE = "SM54"

#: TRE-G15-ProfessionSante code → French label.
PROFESSIONS: dict[str, str] = {
    "10": "Médecin",
    "21": "Pharmacien",
    "40": "Chirurgien-dentiste",
    "50": "Sage-femme",
    "60": "Infirmier",
    "69": "Infirmier psychiatrique",
    "70": "Masseur-kinésithérapeute",
    "80": "Pédicure-podologue",
    "91": "Orthophoniste",
    "92": "Orthoptiste",
}

#: TRE-R38-SpecialiteOrdinale code (medical specialties of JDV_J239) → French label.
SPECIALTIES: dict[str, str] = {
    "SM54": "Médecine générale",
    "SM40": "Pédiatrie",
    "SM38": "Ophtalmologie",
    "SM42": "Psychiatrie",
    "SM43": "Psychiatrie de l'enfant et de l'adolescent",
    "SM39": "ORL",
    "SM15": "Dermatologie",
    "SM19": "Gynécologie médicale",
    "SM20": "Gynécologie-obstétrique",
    "SM04": "Cardiologie",
    "SM16": "Endocrinologie",
    "SM21": "Hématologie",
    "SM32": "Neurologie",
    "SM57": "Allergologie",
}

#: Older RPPS codes of general practice (qualifié / spécialiste en médecine générale).
_GP_ALIASES = {"SM26", "SM53"}

#: Words the directory or a desk may use for a profession, folded.
_PROFESSION_WORDS: dict[str, str] = {
    "medecin": "10",
    "medecin generaliste": "10",
    "pharmacien": "21",
    "chirurgien dentiste": "40",
    "dentiste": "40",
    "sage femme": "50",
    "maieuticien": "50",
    "infirmier": "60",
    "infirmiere": "60",
    "ide": "60",
    "idel": "60",
    "infirmier psychiatrique": "69",
    "masseur kinesitherapeute": "70",
    "kinesitherapeute": "70",
    "kine": "70",
    "pedicure podologue": "80",
    "orthophoniste": "91",
    "orthoptiste": "92",
}

_SPECIALTY_WORDS: dict[str, str] = {
    "medecine generale": "SM54",
    "medecin generaliste": "SM54",
    "generaliste": "SM54",
    "qualifie en medecine generale": "SM54",
    "specialiste en medecine generale": "SM54",
    "pediatre": "SM40",
    "ophtalmologue": "SM38",
    "psychiatre": "SM42",
    "pedopsychiatrie": "SM43",
    "oto rhino laryngologie": "SM39",
    "dermatologie et venereologie": "SM15",
    "cardiologie et maladies vasculaires": "SM04",
    "endocrinologie et metabolisme": "SM16",
}


def fold(text: str) -> str:
    """Lower case, no accents, words separated by one space ("Sage-Femme" → "sage femme")."""
    plain = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return " ".join(re.split(r"[^a-z0-9]+", plain)).strip()


for _code, _label in SPECIALTIES.items():
    _SPECIALTY_WORDS.setdefault(fold(_label), _code)
for _code, _label in PROFESSIONS.items():
    _PROFESSION_WORDS.setdefault(fold(_label), _code)


def profession_code(value: str) -> str | None:
    """The TRE-G15 code of a code or label ("60", "Infirmier", "infirmière"); None if unknown."""
    text = (value or "").strip()
    if text in PROFESSIONS:
        return text
    return _PROFESSION_WORDS.get(fold(text))


def specialty_code(value: str) -> str | None:
    """The TRE-R38 code of a code or label ("SM40", "Pédiatrie", "pédiatre"); None if unknown.
    The older general-practice codes (SM26, SM53) read as SM54."""
    text = (value or "").strip().upper()
    if text in SPECIALTIES:
        return text
    if text in _GP_ALIASES:
        return GENERAL_PRACTICE
    return _SPECIALTY_WORDS.get(fold(value or ""))


class UnknownCode(ValueError):
    """A profession or specialty outside the vocabulary; the message is for the desk."""


@dataclass(frozen=True, slots=True)
class Wanted:
    """Whom the regulating doctor wants the patient to see: a profession, and for a
    doctor a specialty ("" for the other professions)."""

    profession: str = MEDECIN
    specialty: str = GENERAL_PRACTICE

    @property
    def is_general_practice(self) -> bool:
        return self.profession == MEDECIN and self.specialty == GENERAL_PRACTICE

    @property
    def label(self) -> str:
        return wanted_label(self.profession, self.specialty)

    @property
    def key(self) -> str:
        """One string for a statistics line: "10/SM54", "60"."""
        return f"{self.profession}/{self.specialty}" if self.specialty else self.profession


GENERAL = Wanted()

#: What the decision form offers, in this order (label, profession, specialty).
CHOICES: tuple[tuple[str, Wanted], ...] = (
    ("Médecin généraliste", GENERAL),
    ("Pédiatre", Wanted(MEDECIN, "SM40")),
    ("Ophtalmologue", Wanted(MEDECIN, "SM38")),
    ("Psychiatre", Wanted(MEDECIN, "SM42")),
    ("Gynécologue", Wanted(MEDECIN, "SM19")),
    ("Infirmier", Wanted("60", "")),
    ("Sage-femme", Wanted("50", "")),
    ("Chirurgien-dentiste", Wanted("40", "")),
    ("Masseur-kinésithérapeute", Wanted("70", "")),
)
_CHOICE_LABELS = {w: label for label, w in CHOICES}


def wanted_label(profession: str, specialty: str | None) -> str:
    """ "Pédiatre", "Infirmier", "Médecin (Allergologie)"…"""
    w = Wanted(profession, specialty or "")
    if w in _CHOICE_LABELS:
        return _CHOICE_LABELS[w]
    name = PROFESSIONS.get(profession, profession)
    return f"{name} ({SPECIALTIES.get(specialty or '', specialty)})" if specialty else name


def parse_wanted(profession: str | None, specialty: str | None) -> Wanted:
    """The decision's profession and specialty, checked; none given: general practice.

    A specialty alone implies a doctor; a specialty is a doctor's only (TRE-R38's
    medical specialties). Raises ``UnknownCode`` with a French message."""
    if not profession and not specialty:
        return GENERAL
    prof = profession_code(profession) if profession else MEDECIN
    if prof is None:
        raise UnknownCode(f"profession inconnue : « {profession} » (codes TRE-G15, ex. 10, 60)")
    if not specialty:
        return Wanted(prof, GENERAL_PRACTICE if prof == MEDECIN else "")
    spec = specialty_code(specialty)
    if spec is None:
        raise UnknownCode(f"spécialité inconnue : « {specialty} » (codes TRE-R38, ex. SM40)")
    if prof != MEDECIN:
        raise UnknownCode(
            f"la spécialité {SPECIALTIES[spec]} est médicale : "
            f"elle ne s'applique pas à la profession {PROFESSIONS[prof]}"
        )
    return Wanted(prof, spec)


def wanted_of_effecteur(profession: str, specialty: str) -> Wanted:
    """What the directory says an effecteur is, read as codes (unknown words kept folded,
    so they match nothing but themselves)."""
    prof = profession_code(profession) or (fold(profession) if profession else MEDECIN)
    if prof != MEDECIN:
        return Wanted(prof, "")
    return Wanted(prof, specialty_code(specialty) or fold(specialty))
