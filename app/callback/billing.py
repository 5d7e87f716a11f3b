"""The billing hint shown to the effecteur (seeds 000, 001, 004).

- SNP: 15 EUR for a regulated unscheduled visit, when the doctor is not the
  patient's MT and sees them within 48 h of regulation; at most 20 per week.
- SHE: +5 EUR between 19h and 21h (the SNP act is then worth 20 EUR).
- MVR: +10 EUR for a home visit within 24 h of regulation.
A hint, not a claim: the doctor codes the act in their own software.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.callback.models import Appointment
from app.callback.protocol import Billing, BillingLine
from app.directory.vocab import PARIS, WEEKLY_SNP_CAP
from app.domain.enums import ConsultationType

SNP_EUR = 15
SHE_EUR = 5
MVR_EUR = 10
SNP_WINDOW = timedelta(hours=48)
MVR_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Line:
    code: str
    amount_eur: int
    applies: bool
    why: str

    def to_dict(self) -> BillingLine:
        return {
            "code": self.code,
            "amount_eur": self.amount_eur,
            "applies": self.applies,
            "why": self.why,
        }


def billing_hint(appointment: Appointment, weekly_snp: int, cap: int = WEEKLY_SNP_CAP) -> Billing:
    """``weekly_snp``: regulated SNP patients of this doctor this week, this one included."""
    delay = appointment.at - appointment.regulated_at
    hours = delay.total_seconds() / 3600
    local = appointment.at.astimezone(PARIS)
    lines: list[Line] = []
    if appointment.is_treating_doctor:
        snp = Line(
            "SNP",
            SNP_EUR,
            False,
            "pas de supplément SNP : vous êtes le médecin traitant du patient",
        )
    elif delay > SNP_WINDOW:
        snp = Line(
            "SNP",
            SNP_EUR,
            False,
            f"pas de supplément SNP : consultation {hours:.0f} h "
            "après la régulation (au-delà de 48 h)",
        )
    elif weekly_snp > cap:
        snp = Line(
            "SNP",
            SNP_EUR,
            False,
            f"plafond atteint : {weekly_snp} patients SNP régulés "
            f"cette semaine, le supplément n'est versé que pour {cap}",
        )
    else:
        snp = Line(
            "SNP",
            SNP_EUR,
            True,
            f"soin non programmé régulé par le SAS, dans les 48 h "
            f"({weekly_snp}/{cap} cette semaine)",
        )
    lines.append(snp)
    evening = 19 <= local.hour < 21
    if evening:
        she_ok = snp.applies
        lines.append(
            Line(
                "SHE",
                SHE_EUR,
                she_ok,
                "consultation entre 19 h et 21 h : SNP porté à 20 €"
                if she_ok
                else "entre 19 h et 21 h, mais sans supplément SNP : pas de SHE",
            )
        )
    if appointment.consultation_type == ConsultationType.VISITE:
        mvr_ok = delay < MVR_WINDOW
        lines.append(
            Line(
                "MVR",
                MVR_EUR,
                mvr_ok,
                f"visite à domicile {hours:.0f} h après la régulation (< 24 h)"
                if mvr_ok
                else f"visite à domicile {hours:.0f} h après la régulation : "
                "MVR seulement sous 24 h",
            )
        )
    total = sum(x.amount_eur for x in lines if x.applies)
    codes = " + ".join(x.code for x in lines if x.applies)
    text = f"À coter : {codes} ({total} €)" if total else "Aucun supplément SAS à coter"
    if weekly_snp == cap and snp.applies:
        text += f" — dernier patient SNP payé cette semaine ({cap}/{cap})"
    return {
        "lines": [x.to_dict() for x in lines],
        "total_eur": total,
        "text": text,
        "weekly_snp": weekly_snp,
        "weekly_cap": cap,
    }
