"""The two-level SAS flow as plain rules: who may do what, where a dossier goes.

The hub calls these; nothing here touches the database or the network, so the flow
can be read (and tested) in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.domain.enums import (
    ConsultationType,
    Decision,
    DossierStatus,
    Orientation,
    Priority,
    Queue,
    Role,
    Track,
)
from app.domain.errors import FlowError, forbid
from app.domain.permissions import QUEUE_READERS, QUEUE_TAKERS, Action, require, roles_for
from app.domain.professions import UnknownCode, Wanted, parse_wanted

__all__ = ["QUEUE_READERS", "QUEUE_TAKERS", "FlowError", "forbid"]  # read from here too

CONSULTATION_DEADLINE = timedelta(hours=48)

TRACK_OF_QUEUE = {Queue.AMU_MEDECIN: Track.AMU, Queue.AMU_N2: Track.AMU, Queue.SNP: Track.SNP}
DOCTOR_QUEUE_OF_TRACK = {Track.AMU: Queue.AMU_MEDECIN, Track.SNP: Queue.SNP}

# Who may do what is app.domain.permissions' table; these names read from it.
ROLES_ANSWERING_CALLS = roles_for(Action.ANSWER_CALLS)
ROLES_SEEING_CALLS = roles_for(Action.ANSWER_CALLS)  # calls are shown to who answers them
ROLES_SEEING_TASKS = roles_for(Action.SEE_TASKS)
ROLES_TAKING_TASKS = roles_for(Action.TAKE_TASKS)


@dataclass(frozen=True)
class Routing:
    status: DossierStatus
    queue: Queue | None
    track: Track | None
    reflex: bool


def route_priority(priority: Priority) -> Routing:
    """Where N1's priority sends the dossier (Hub Santé nomenclature)."""
    if priority is Priority.P0:
        return Routing(DossierStatus.QUEUED, Queue.AMU_MEDECIN, Track.AMU, reflex=True)
    if priority is Priority.P1:
        return Routing(DossierStatus.QUEUED, Queue.AMU_N2, Track.AMU, reflex=False)
    if priority is Priority.P2:
        return Routing(DossierStatus.QUEUED, Queue.SNP, Track.SNP, reflex=False)
    # P3: information only; N1 may close it with the information given.
    return Routing(DossierStatus.OPEN, None, None, reflex=False)


def check_can_read_queue(role: Role, queue: Queue) -> None:
    if role not in QUEUE_READERS[queue]:
        raise forbid(f"le rôle {role.label} n'a pas accès à la file « {queue.label} »")


def check_can_take(role: Role, queue: Queue) -> None:
    if role not in QUEUE_TAKERS[queue]:
        raise forbid(f"le rôle {role.label} ne peut pas prendre un dossier de « {queue.label} »")


def check_can_decide(role: Role, track: Track | None) -> None:
    require(role, Action.DECIDE)


def check_can_close(
    role: Role, status: DossierStatus, priority: Priority | None, decided: bool
) -> None:
    """N1 closes P3 information calls; a doctor closes after a decision."""
    if status is DossierStatus.CLOSED:
        raise FlowError("invalid_state", "le dossier est déjà clôturé")
    if status is DossierStatus.AWAITING_OSNP:
        raise FlowError(
            "invalid_state", "une recherche de RDV est en cours : l'OSNP clôture le dossier"
        )
    require(role, Action.CLOSE_DOSSIERS)
    if role is Role.SUPERVISEUR:
        return
    if role in (Role.ARM_N1, Role.ARM_N2):
        if priority is not Priority.P3:
            raise forbid("un ARM ne peut clôturer que les appels P3 (information)")
        return
    if role.is_doctor:
        if not decided:
            raise FlowError("invalid_state", "enregistrez la décision médicale avant de clôturer")
        return
    raise forbid(f"le rôle {role.label} ne peut pas clôturer un dossier")


def needs_osnp_task(decision: Decision, orientation: Orientation | None) -> bool:
    return decision is Decision.ORIENT and orientation is Orientation.CONSULTATION_48H


def check_decision_fields(
    decision: Decision,
    orientation: Orientation | None,
    consultation_type: ConsultationType | None,
    means: object | None,
) -> None:
    if decision is Decision.ORIENT and orientation is None:
        raise FlowError("invalid_message", "une orientation doit préciser vers où")
    if needs_osnp_task(decision, orientation) and consultation_type is None:
        raise FlowError(
            "invalid_message",
            "une consultation sous 48 h doit préciser le type (cabinet, téléconsultation, visite)",
        )
    if decision is Decision.INTER and means is None:
        raise FlowError("invalid_message", "un envoi de moyens doit préciser le moyen")


def check_wanted(
    decision: Decision,
    orientation: Orientation | None,
    profession: str | None,
    specialty: str | None,
) -> Wanted | None:
    """The profession/specialty a consultation asks for (médecine générale by default);
    None for the other decisions, which may not name one."""
    if not needs_osnp_task(decision, orientation):
        if profession or specialty:
            raise FlowError(
                "invalid_message",
                "une profession ou une spécialité ne se précise que pour une consultation",
            )
        return None
    try:
        return parse_wanted(profession, specialty)
    except UnknownCode as e:
        raise FlowError("invalid_message", str(e)) from None
