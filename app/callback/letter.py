"""The letter to the patient's treating doctor, as PDF (seed 000: sent systematically
when another doctor saw their patient in the SNP track).

Written the way a regulating doctor writes to a colleague: who called, why, what the
regulation decided, why the MT was not the one, who saw the patient, when, and that
the follow-up is theirs. Medical secrecy mention at the foot.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from app.callback.facts import (
    TYPE_WORDS,
    age_text,
    commune_name,
    day_text,
    hour_text,
    long_date,
    when_text,
)
from app.callback.models import Appointment
from app.callback.settings import Settings
from app.callback.vocab import AppointmentStatus
from app.db.models import OsnpTask
from app.directory.vocab import PARIS
from app.domain.enums import ConsultationType
from app.domain.rules import FlowError


@dataclass(frozen=True)
class LetterFacts:
    treating_doctor: str
    treating_doctor_place: str
    regulator: str
    osnp: str
    why_not_mt: str  # « nous n'avons pas pu vous joindre »…


def _sex_words(sex: str) -> dict[str, str]:
    if sex == "F":
        return {
            "patient": "votre patiente",
            "pronoun": "elle",
            "seen": "reçue",
            "oriented": "orientée",
            "le": "la",
            "title": "Patiente",
        }
    if sex == "M":
        return {
            "patient": "votre patient",
            "pronoun": "il",
            "seen": "reçu",
            "oriented": "orienté",
            "le": "le",
            "title": "Patient",
        }
    return {
        "patient": "votre patient(e)",
        "pronoun": "il ou elle",
        "seen": "reçu(e)",
        "oriented": "orienté(e)",
        "le": "le ou la",
        "title": "Patient(e)",
    }


def _dr(name: str) -> str:
    name = name.strip()
    return name if name.lower().startswith(("dr ", "dr.", "docteur")) else f"Dr {name}"


def letter_pdf(
    task: OsnpTask, appointment: Appointment, facts: LetterFacts, settings: Settings, now: datetime
) -> bytes:
    """The letter as PDF bytes, or FlowError when there is no letter to write."""
    status = _status_with_letter(appointment, facts)
    d = task.dossier
    w = _sex_words(d.patient_sex)
    name = (
        " ".join(x for x in (d.patient_first_name, d.patient_last_name.upper()) if x)
        or "le patient"
    )
    age = age_text(d.patient_age, d.patient_birth_date, now.astimezone(PARIS).date())
    born = (
        f"né{'e' if d.patient_sex == 'F' else ''} le {long_date(d.patient_birth_date)}, "
        if d.patient_birth_date
        else ""
    )
    doctor = _dr(appointment.doctor_name)
    visit = _visit(appointment, status, w)
    body, small, right, bold = _styles()

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(text, style)

    e = escape
    story: list[Flowable] = [
        p(
            f"<b>{e(settings.sender)}</b><br/>{e(settings.sender_address)}"
            + (f"<br/>Tél. régulation : {e(settings.osnp_phone)}" if settings.osnp_phone else ""),
            body,
        ),
        Spacer(1, 6 * mm),
        p(
            f"À l'attention du <b>{e(_dr(facts.treating_doctor))}</b>"
            + (f"<br/>{e(facts.treating_doctor_place)}" if facts.treating_doctor_place else ""),
            right,
        ),
        Spacer(1, 4 * mm),
        p(f"Le {long_date(now.astimezone(PARIS).date())}", right),
        Spacer(1, 4 * mm),
        p(f"Objet : prise en charge de {e(w['patient'])} en soins non programmés", bold),
        p(
            f"{w['title']} : <b>{e(name)}</b>, {e(born)}{e(age)}"
            + (
                f", {e(commune_name(d.commune_name, d.commune_insee))}"
                if d.commune_insee or d.commune_name
                else ""
            )
            + f" — dossier de régulation n° {e(d.number)}",
            body,
        ),
        Spacer(1, 3 * mm),
        p("Chère Consœur, cher Confrère,"),
        p(
            f"Le service d'accès aux soins a été appelé le {e(when_text(d.answered_at))} "
            f"au sujet de {e(w['patient'])}, {e(name)}, pour le motif suivant : "
            f"« {e(d.motif.strip() or 'non précisé')} »."
        ),
        p(
            f"Après régulation par le {e(_dr(facts.regulator))}, médecin régulateur, une "
            f"consultation dans les 48 heures a été jugée nécessaire. {e(facts.why_not_mt)}"
        ),
        p(e(visit)),
        p(
            f"Le {e(doctor)} vous adressera, s'il y a lieu, le compte rendu de sa consultation. "
            f"Nous vous remercions de bien vouloir assurer la suite de la prise en charge de "
            f"{e(w['patient'])}."
        ),
        p(
            "Nous restons à votre disposition pour tout renseignement"
            + (f" au {e(settings.osnp_phone)}." if settings.osnp_phone else ".")
        ),
        *_signature(facts, settings, now, body, small),
    ]
    return _pdf(story, f"Courrier au médecin traitant — {name}", settings)


def _signature(
    facts: LetterFacts,
    settings: Settings,
    now: datetime,
    body: ParagraphStyle,
    small: ParagraphStyle,
) -> list[Flowable]:
    """The letter's end: the regulator's signature for the SAS, the confidentiality."""
    e = escape
    return [
        Paragraph("Bien confraternellement,", body),
        Spacer(1, 4 * mm),
        Paragraph(
            f"{e(_dr(facts.regulator))}, médecin régulateur<br/>"
            f"pour le {e(settings.sas_name)} — courrier préparé par {e(facts.osnp)}, "
            "opérateur de soins non programmés",
            body,
        ),
        Spacer(1, 12 * mm),
        Paragraph(
            "Document médical confidentiel, couvert par le secret médical : à remettre au seul "
            f"destinataire. Établi le {e(when_text(now))}.",
            small,
        ),
    ]


def _pdf(story: list[Flowable], title: str, settings: Settings) -> bytes:
    """The story laid out on A4."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=settings.sender,
        subject="Soins non programmés",
    )
    doc.build(story)
    return out.getvalue()


def _status_with_letter(appointment: Appointment, facts: LetterFacts) -> AppointmentStatus:
    """The appointment's status, if a letter is to be written (else FlowError: seen by
    the treating doctor, none declared, or the patient not seen)."""
    if appointment.is_treating_doctor:
        raise FlowError(
            "invalid_state", "pas de courrier : le patient a été vu par son médecin traitant"
        )
    if not facts.treating_doctor.strip():
        raise FlowError(
            "invalid_state", "pas de courrier : le patient n'a pas de médecin traitant déclaré"
        )
    status = AppointmentStatus(appointment.status)
    if status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise FlowError(
            "invalid_state",
            f"pas de courrier : rendez-vous « {status.label} », le patient n'a pas été vu",
        )
    return status


def _visit(appointment: Appointment, status: AppointmentStatus, w: dict[str, str]) -> str:
    """The sentence of the consultation: held, or to come (when, how, by whom, where)."""
    ctype = ConsultationType(appointment.consultation_type)
    doctor = _dr(appointment.doctor_name)
    seen_at = f"le {day_text(appointment.at)} à {hour_text(appointment.at)}"
    place = (
        f", {appointment.place}" if appointment.place and ctype is ConsultationType.CABINET else ""
    )
    if status is AppointmentStatus.HONOURED:
        return (
            f"{w['pronoun'].capitalize()} a été {w['seen']} {seen_at}, "
            f"{TYPE_WORDS[ctype]}, par le {doctor}{place}."
        )
    return (
        f"{w['pronoun'].capitalize()} a rendez-vous {seen_at}, {TYPE_WORDS[ctype]}, "
        f"avec le {doctor}{place}."
    )


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    """The letter's paragraph styles: body, small print, right-aligned, bold."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle(
        "body",
        parent=styles["Normal"],
        fontName="Helvetica",
        fontSize=10.5,
        leading=15,
        spaceAfter=7,
    )
    small = ParagraphStyle(
        "small", parent=body, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444")
    )
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    bold = ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold")
    return body, small, right, bold
