"""What PSC's userinfo says about the professional, and whether it fits an account's role.

Claim shapes from ansforge/PSC-POC (api-proxy/…/model/prosanteconnect/UserInfos.java and
copier-coller-api/src/test/resources/userInfos.json, commit 0090ec18): ``SubjectNameID``
(the national identifier), ``SubjectRefPro.exercices[]`` with ``codeProfession`` and
``codeSavoirFaire``, ``SubjectRole`` (``"10^1.2.250.1.213.1.1.5.5"``), names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Profession codes (TRE_G15-ProfessionSante) a desk may meet.
PROFESSIONS = {
    "10": "Médecin",
    "21": "Pharmacien",
    "40": "Chirurgien-dentiste",
    "50": "Sage-femme",
    "60": "Infirmier",
    "70": "Masseur-kinésithérapeute",
}
DOCTOR = "10"
#: Roles whose account must belong to a doctor, and how the refusal names them.
DOCTOR_ROLES = {"MRL": "médecin régulateur libéral", "MEDECIN_AMU": "médecin régulateur AMU"}


@dataclass(frozen=True)
class Professional:
    national_id: str
    family_name: str
    given_name: str
    professions: tuple[str, ...]
    savoir_faire: tuple[str, ...]

    @classmethod
    def of(cls, userinfo: dict[str, Any]) -> Professional:
        ref = userinfo.get("SubjectRefPro")
        exercices = ref.get("exercices") if isinstance(ref, dict) else None
        exercices = [e for e in exercices or [] if isinstance(e, dict)]
        return cls(
            national_id=str(userinfo.get("SubjectNameID") or ""),
            family_name=str(userinfo.get("family_name") or ""),
            given_name=str(userinfo.get("given_name") or ""),
            professions=tuple(str(e.get("codeProfession") or "") for e in exercices),
            savoir_faire=tuple(str(e.get("codeSavoirFaire") or "") for e in exercices),
        )


def role_mismatch(role: str, who: Professional) -> str:
    """Why PSC's claims do not fit the account's role (French), or "" when they do.

    Claims never grant a role: they can only refuse one the administrator gave."""
    if role not in DOCTOR_ROLES or DOCTOR in who.professions:
        return ""
    declared = ", ".join(
        f"{PROFESSIONS.get(code, 'profession')} (code {code})" for code in who.professions if code
    )
    return (
        f"la profession déclarée à Pro Santé Connect ({declared or 'aucune'}) ne permet pas "
        f"d'ouvrir un compte de {DOCTOR_ROLES[role]} : il faut être médecin (code 10)"
    )
