"""The call-back vocabulary: kinds of target, attempt results, appointment statuses.

Values are stored and sent on the wire; ``label`` is the French the desks show.
"""

from __future__ import annotations

from app.domain.enums import LabelledEnum, TaskOutcome


class CallbackEnum(LabelledEnum):
    @property
    def label(self) -> str:
        key: tuple[type, str] = (type(self), self.value)
        return _LABELS.get(key, str(self))


class TargetKind(CallbackEnum):
    """Who the OSNP calls, in the order of seed 000: the MT first, then the territory."""

    MT = "MT"  # médecin traitant
    CONFRERE = "CONFRERE"  # colleague of the MT's practice
    CRENEAU = "CRENEAU"  # effecteur with a published slot
    HORS_DISPO = "HORS_DISPO"  # accepts patients beyond published slots
    CPTS = "CPTS"  # the territory's CPTS (its SNP line), for another profession than GP
    TELECONSULTATION = "TELECONSULTATION"  # fallback
    PDSA = "PDSA"  # out-of-hours duty doctor, from 20h
    URGENCES = "URGENCES"  # emergency department, on the regulating doctor's decision

    @property
    def is_fallback(self) -> bool:
        return self in FALLBACKS


FALLBACKS = frozenset({TargetKind.TELECONSULTATION, TargetKind.PDSA, TargetKind.URGENCES})

#: The task outcome an accepted target gives: the seed-003 columns, derived.
OUTCOME_OF_KIND: dict[TargetKind, TaskOutcome] = {
    TargetKind.MT: TaskOutcome.RDV_MT,
    TargetKind.CONFRERE: TaskOutcome.RDV_CONFRERE,
    TargetKind.CRENEAU: TaskOutcome.RDV_CRENEAU,
    TargetKind.HORS_DISPO: TaskOutcome.RDV_HORS_DISPO,
    TargetKind.CPTS: TaskOutcome.RDV_CRENEAU,
    TargetKind.TELECONSULTATION: TaskOutcome.RDV_CRENEAU,
}


class TargetStatus(CallbackEnum):
    TO_CALL = "TO_CALL"
    RETRY = "RETRY"  # no answer / busy / voicemail: a retry is planned
    CALL_BACK = "CALL_BACK"  # the doctor asked to be called back at a given time
    REFUSED = "REFUSED"
    SKIPPED = "SKIPPED"
    ACCEPTED = "ACCEPTED"

    @property
    def is_open(self) -> bool:
        return self in (TargetStatus.TO_CALL, TargetStatus.RETRY, TargetStatus.CALL_BACK)


class AttemptResult(CallbackEnum):
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    NO_ANSWER = "NO_ANSWER"
    BUSY = "BUSY"
    VOICEMAIL = "VOICEMAIL"
    CALL_BACK = "CALL_BACK"  # asks to be called back at a time

    @property
    def plans_retry(self) -> bool:
        return self in (AttemptResult.NO_ANSWER, AttemptResult.BUSY, AttemptResult.VOICEMAIL)


class AppointmentStatus(CallbackEnum):
    BOOKED = "BOOKED"
    CONFIRMED = "CONFIRMED"
    HONOURED = "HONOURED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


#: Where an appointment may go from each status (a final status goes nowhere).
APPOINTMENT_MOVES: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.HONOURED,
            AppointmentStatus.NO_SHOW,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.CONFIRMED: frozenset(
        {AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.HONOURED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
}


class ReminderKind(CallbackEnum):
    RETRY = "RETRY"  # ring the OSNP's desk: call this target again now
    DEADLINE = "DEADLINE"  # the task nears its 48 h deadline: raise to the supervisor
    OUTSIDE_HOURS = "OUTSIDE_HOURS"  # the SAS closes with the task still open


class RefusalReason(CallbackEnum):
    COMPLET = "COMPLET"  # no room in the agenda
    ABSENT = "ABSENT"  # away, on leave
    HORS_COMPETENCE = "HORS_COMPETENCE"  # motif outside what they take (child, suture…)
    HORS_SECTEUR = "HORS_SECTEUR"
    NE_PREND_PAS_SAS = "NE_PREND_PAS_SAS"
    AUTRE = "AUTRE"


_PAIRS = (
    (TargetKind.MT, "Médecin traitant"),
    (TargetKind.CONFRERE, "Confrère du cabinet"),
    (TargetKind.CRENEAU, "Effecteur avec créneau"),
    (TargetKind.HORS_DISPO, "Hors disponibilité"),
    (TargetKind.CPTS, "CPTS du territoire"),
    (TargetKind.TELECONSULTATION, "Téléconsultation"),
    (TargetKind.PDSA, "Médecin de garde (PDSA, après 20 h)"),
    (TargetKind.URGENCES, "Service d'urgences (décision du régulateur)"),
    (TargetStatus.TO_CALL, "À appeler"),
    (TargetStatus.RETRY, "À rappeler (sans réponse)"),
    (TargetStatus.CALL_BACK, "Rappel demandé"),
    (TargetStatus.REFUSED, "Refus"),
    (TargetStatus.SKIPPED, "Passé"),
    (TargetStatus.ACCEPTED, "Accepte"),
    (AttemptResult.ACCEPTED, "Accepte"),
    (AttemptResult.REFUSED, "Refuse"),
    (AttemptResult.NO_ANSWER, "Pas de réponse"),
    (AttemptResult.BUSY, "Occupé"),
    (AttemptResult.VOICEMAIL, "Messagerie"),
    (AttemptResult.CALL_BACK, "Demande à être rappelé"),
    (AppointmentStatus.BOOKED, "Réservé"),
    (AppointmentStatus.CONFIRMED, "Confirmé"),
    (AppointmentStatus.HONOURED, "Honoré"),
    (AppointmentStatus.NO_SHOW, "Patient non venu"),
    (AppointmentStatus.CANCELLED, "Annulé"),
    (RefusalReason.COMPLET, "Agenda complet"),
    (RefusalReason.ABSENT, "Absent / en congés"),
    (RefusalReason.HORS_COMPETENCE, "Motif hors de sa pratique"),
    (RefusalReason.HORS_SECTEUR, "Patient hors secteur"),
    (RefusalReason.NE_PREND_PAS_SAS, "Ne prend pas de patients du SAS"),
    (RefusalReason.AUTRE, "Autre"),
)
_LABELS: dict[tuple[type, str], str] = {(type(k), k.value): v for k, v in _PAIRS}
