"""The regulation vocabulary: roles, lines, priorities, tracks, decisions.

Values are the codes stored and sent on the wire; ``label`` gives the French text
the desks show.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a French label for the desks."""

    @property
    def label(self) -> str:
        return _LABELS.get((type(self), self.value), str(self))


class Role(LabelledEnum):
    ARM_N1 = "ARM_N1"
    ARM_N2 = "ARM_N2"
    MEDECIN_AMU = "MEDECIN_AMU"
    MRL = "MRL"  # médecin régulateur libéral
    OSNP = "OSNP"
    SUPERVISEUR = "SUPERVISEUR"
    GESTIONNAIRE_CPTS = "GESTIONNAIRE_CPTS"  # keeps the effecteurs' slots up to date

    @property
    def is_doctor(self) -> bool:
        return self in (Role.MEDECIN_AMU, Role.MRL)


class Line(LabelledEnum):
    SAMU_15 = "15"
    SAS_116117 = "116117"

    @classmethod
    def from_dialled(cls, dialled: str) -> Line | None:
        digits = "".join(ch for ch in dialled if ch.isdigit())
        for line in cls:
            if digits == line.value:
                return line
        return None


class Priority(LabelledEnum):
    P0 = "P0"  # urgence vitale
    P1 = "P1"  # prioritaire
    P2 = "P2"  # non urgent
    P3 = "P3"  # différé


class Track(LabelledEnum):
    AMU = "AMU"
    SNP = "SNP"


class Queue(LabelledEnum):
    """Where a dossier waits for an owner."""

    AMU_MEDECIN = "AMU_MEDECIN"  # AMU doctor (P0 reflex, or forwarded by N2)
    AMU_N2 = "AMU_N2"  # ARM N2 of the AMU track (P1)
    SNP = "SNP"  # médecin régulateur libéral (P2)


class DossierStatus(LabelledEnum):
    OPEN = "OPEN"  # at N1, being qualified
    QUEUED = "QUEUED"  # waiting in a queue, no owner
    IN_PROGRESS = "IN_PROGRESS"  # taken at level 2
    AWAITING_OSNP = "AWAITING_OSNP"  # decision taken, OSNP finds the appointment
    CLOSED = "CLOSED"


class Decision(LabelledEnum):
    CONSEIL = "CONSEIL"
    PMT = "PMT"  # prescription médicamenteuse par téléphone
    INTER = "INTER"  # envoi de moyens
    ORIENT = "ORIENT"
    PASPLUS = "PASPLUS"


class CareLevel(LabelledEnum):
    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"


class Filiere(LabelledEnum):
    AMU = "AMU"
    SNP = "SNP"
    PSY = "PSY"
    PERINAT = "PERINAT"
    GERIATRIE = "GERIATRIE"
    DENTAIRE = "DENTAIRE"


class Orientation(LabelledEnum):
    """Where an ORIENT decision sends the patient."""

    CONSULTATION_48H = "CONSULTATION_48H"
    URGENCES = "URGENCES"
    PDSA = "PDSA"  # médecin de garde (out of hours)
    PHARMACIE = "PHARMACIE"
    AUTRE = "AUTRE"


class Means(LabelledEnum):
    """What an INTER decision dispatches."""

    SMUR = "SMUR"
    AMBULANCE = "AMBULANCE"
    VSAV = "VSAV"
    MEDECIN = "MEDECIN"


class ConsultationType(LabelledEnum):
    CABINET = "cabinet"
    TELECONSULTATION = "teleconsultation"
    VISITE = "visite"


class Sex(LabelledEnum):
    F = "F"
    M = "M"
    INCONNU = "X"


class TaskStatus(LabelledEnum):
    OPEN = "OPEN"  # waiting for an OSNP
    IN_PROGRESS = "IN_PROGRESS"  # an OSNP owns it
    DONE = "DONE"


class TaskOutcome(LabelledEnum):
    RDV_MT = "RDV_MT"
    RDV_CONFRERE = "RDV_CONFRERE"  # colleague of the same practice
    RDV_CRENEAU = "RDV_CRENEAU"  # published slot (plateforme / effecteur)
    RDV_HORS_DISPO = "RDV_HORS_DISPO"  # doctor accepting beyond slots
    SANS_SOLUTION = "SANS_SOLUTION"

    @property
    def is_appointment(self) -> bool:
        return self is not TaskOutcome.SANS_SOLUTION


class NoSolutionReason(LabelledEnum):
    AUCUN_CRENEAU = "AUCUN_CRENEAU"
    PATIENT_INJOIGNABLE = "PATIENT_INJOIGNABLE"
    PATIENT_REFUSE = "PATIENT_REFUSE"
    DELAI_DEPASSE = "DELAI_DEPASSE"
    REORIENTE_URGENCES = "REORIENTE_URGENCES"
    REORIENTE_PDSA = "REORIENTE_PDSA"
    AUTRE = "AUTRE"


# Pairs, not a dict literal: members of different enums may share a value ("OPEN").
_LABEL_PAIRS: tuple[tuple[StrEnum, str], ...] = (
    (Role.ARM_N1, "ARM niveau 1"),
    (Role.ARM_N2, "ARM niveau 2"),
    (Role.MEDECIN_AMU, "Médecin régulateur AMU"),
    (Role.MRL, "Médecin régulateur libéral"),
    (Role.OSNP, "OSNP"),
    (Role.SUPERVISEUR, "Superviseur"),
    (Role.GESTIONNAIRE_CPTS, "Gestionnaire de structure (CPTS)"),
    (Line.SAMU_15, "15"),
    (Line.SAS_116117, "116-117"),
    (Priority.P0, "P0 – urgence vitale"),
    (Priority.P1, "P1 – prioritaire"),
    (Priority.P2, "P2 – non urgent"),
    (Priority.P3, "P3 – différé"),
    (Track.AMU, "AMU"),
    (Track.SNP, "SNP"),
    (Queue.AMU_MEDECIN, "Médecin AMU"),
    (Queue.AMU_N2, "ARM N2 – AMU"),
    (Queue.SNP, "Régulation libérale (SNP)"),
    (DossierStatus.OPEN, "En qualification"),
    (DossierStatus.QUEUED, "En file"),
    (DossierStatus.IN_PROGRESS, "En régulation"),
    (DossierStatus.AWAITING_OSNP, "Recherche de RDV"),
    (DossierStatus.CLOSED, "Clôturé"),
    (Decision.CONSEIL, "Conseil médical"),
    (Decision.PMT, "Prescription médicamenteuse par téléphone"),
    (Decision.INTER, "Envoi de moyens"),
    (Decision.ORIENT, "Orientation"),
    (Decision.PASPLUS, "Pas plus (sans suite)"),
    (Filiere.AMU, "AMU"),
    (Filiere.SNP, "Soins non programmés"),
    (Filiere.PSY, "Psychiatrie"),
    (Filiere.PERINAT, "Périnatalité"),
    (Filiere.GERIATRIE, "Gériatrie"),
    (Filiere.DENTAIRE, "Dentaire"),
    (Orientation.CONSULTATION_48H, "Consultation sous 48 h"),
    (Orientation.URGENCES, "Service d'urgences"),
    (Orientation.PDSA, "Médecin de garde (PDSA)"),
    (Orientation.PHARMACIE, "Pharmacie"),
    (Orientation.AUTRE, "Autre"),
    (Means.SMUR, "SMUR"),
    (Means.AMBULANCE, "Ambulance privée"),
    (Means.VSAV, "VSAV (pompiers)"),
    (Means.MEDECIN, "Médecin à domicile"),
    (ConsultationType.CABINET, "Cabinet"),
    (ConsultationType.TELECONSULTATION, "Téléconsultation"),
    (ConsultationType.VISITE, "Visite à domicile"),
    (Sex.F, "Femme"),
    (Sex.M, "Homme"),
    (Sex.INCONNU, "Non précisé"),
    (TaskStatus.OPEN, "À traiter"),
    (TaskStatus.IN_PROGRESS, "En cours"),
    (TaskStatus.DONE, "Terminée"),
    (TaskOutcome.RDV_MT, "RDV avec le médecin traitant"),
    (TaskOutcome.RDV_CONFRERE, "RDV avec un confrère du cabinet"),
    (TaskOutcome.RDV_CRENEAU, "RDV sur un créneau publié"),
    (TaskOutcome.RDV_HORS_DISPO, "RDV hors disponibilité"),
    (TaskOutcome.SANS_SOLUTION, "Pas de solution"),
    (NoSolutionReason.AUCUN_CRENEAU, "Aucun créneau trouvé"),
    (NoSolutionReason.PATIENT_INJOIGNABLE, "Patient injoignable"),
    (NoSolutionReason.PATIENT_REFUSE, "Le patient refuse"),
    (NoSolutionReason.DELAI_DEPASSE, "Délai de 48 h dépassé"),
    (NoSolutionReason.REORIENTE_URGENCES, "Réorienté vers les urgences"),
    (NoSolutionReason.REORIENTE_PDSA, "Réorienté vers la PDSA"),
    (NoSolutionReason.AUTRE, "Autre"),
)
_LABELS: dict[tuple[type, str], str] = {(type(k), k.value): v for k, v in _LABEL_PAIRS}
