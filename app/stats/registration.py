"""The SAS registration rate per department, as the ARS shows it (seed 001: "61
médecins inscrits = 13 % des 468 médecins installés du département", then the
participants individually, via an MSP, a CPTS, SOS Médecins).

Read from the directory as it stands (not from the month's events): GPs installed are
the active effecteurs, profession médecin, specialty médecine générale (SM54),
practising in the department; registered are those of them taking part in the SAS.
A GP practising in two departments counts in each.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.directory.models import Effecteur
from app.directory.query import fold
from app.directory.vocab import Mode
from app.geo import default_index

#: Specialty spellings of general practice (the RPPS's SM54 and its labels).
GENERAL_PRACTICE = {"medecine generale", "sm54", "medecin generaliste", "qualifie en mg"}
#: The seed's participation columns, in its order (the rest: centre de santé…).
MODES = (Mode.INDIVIDUEL, Mode.MSP, Mode.CPTS, Mode.SOS_MEDECINS, Mode.CENTRE_DE_SANTE)


@dataclass
class RegistrationRow:
    department: str
    registered: int = 0
    installed: int = 0
    by_mode: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float | None:
        return self.registered / self.installed if self.installed else None


def is_general_practitioner(profession: str, specialty: str) -> bool:
    return fold(profession).startswith("medecin") and fold(specialty) in GENERAL_PRACTICE


def department_of(insee: str) -> str:
    commune = default_index().by_insee(insee) if insee else None
    if commune is not None:
        return commune.department
    return insee[:3] if insee.startswith("97") else insee[:2]


def registration_rates(session: Session) -> list[RegistrationRow]:
    """One row per department where GPs of the directory practise, by code."""
    rows: dict[str, RegistrationRow] = defaultdict(lambda: RegistrationRow(""))
    for e in session.scalars(select(Effecteur).where(Effecteur.active.is_(True))).unique():
        if not is_general_practitioner(e.profession, e.specialty):
            continue
        for dep in {department_of(p.commune_insee) for p in e.practices if p.commune_insee}:
            row = rows[dep]
            row.department = dep
            row.installed += 1
            if e.sas_participant:
                row.registered += 1
                row.by_mode[e.mode if e.mode in set(MODES) else str(Mode.INDIVIDUEL)] += 1
    return [rows[d] for d in sorted(rows)]


def summary_lines(rows: list[RegistrationRow]) -> list[str]:
    """The seed's sentence, per department."""
    return [
        f"Département {r.department} : {r.registered} médecin(s) inscrit(s) au SAS = "
        f"{_pct(r.rate)} des {r.installed} médecin(s) généraliste(s) installé(s)"
        for r in rows
    ]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %".replace(".", ",")
