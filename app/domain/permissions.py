"""Who may do what: one table, role × action, read by every check of the hub and sent to
the desk at login (the desk enables its actions from it, the hub enforces it).

An action the role may not do at all is refused with ``forbidden`` before any object is
read, so the refusal depends on the role alone and tells nothing about the object. What
depends on the object (the queue a dossier waits in, who holds it, its state) is checked
after: the queue tables below, and the object rules of ``app.domain.rules`` and the
handlers (owner, P3 for an ARM's close, a decision before a doctor's close…).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from typing_extensions import TypedDict

from app.domain.enums import Queue, Role
from app.domain.errors import FlowError


class Action(StrEnum):
    """What a desk does; the value is the name the desk receives in its permissions."""

    ANSWER_CALLS = "answer_calls"  # calls ring, are answered, ended, their WAV uploaded
    READ_DOSSIERS = "read_dossiers"  # open a visible dossier, add a note
    EDIT_DOSSIERS = "edit_dossiers"  # type into a dossier one holds
    QUALIFY = "qualify"  # N1's priority
    FORWARD = "forward"  # N2 hands an AMU dossier to the doctor
    DECIDE = "decide"  # medical decision
    MOVE_TRACK = "move_track"  # SNP ⇄ AMU
    RESUME_SEARCH = "resume_search"  # move the track of a dossier whose RDV search is open
    CLOSE_DOSSIERS = "close_dossiers"
    SEE_TASKS = "see_tasks"  # OSNP tasks and their call-back plans, scripts, billing
    TAKE_TASKS = "take_tasks"
    CLOSE_TASKS = "close_tasks"
    REOPEN_TASKS = "reopen_tasks"
    CALL_BACK = "call_back"  # plan, attempts, appointment follow-up
    FOLLOW_UP = "follow_up"  # letters to the treating doctor, the OSNP's monthly counts
    SEARCH_SLOTS = "search_slots"  # search, book, refresh from the agenda editors
    RELEASE_BOOKINGS = "release_bookings"
    KEEP_AGENDAS = "keep_agendas"
    IMPORT_DIRECTORY = "import_directory"
    READ_STATISTICS = "read_statistics"
    SUPERVISE = "supervise"  # the room's live view
    LISTEN_RECORDINGS = "listen_recordings"
    READ_AUDIT = "read_audit"  # who read which dossier
    APPOINTMENT_BOARD = "appointment_board"  # appointments received, attached to dossiers

    @property
    def refusal(self) -> str:
        return _REFUSALS[self]


_ALL = frozenset(Role)
_N1, _N2, _AMU, _MRL = Role.ARM_N1, Role.ARM_N2, Role.MEDECIN_AMU, Role.MRL
_OSNP, _SUP, _CPTS = Role.OSNP, Role.SUPERVISEUR, Role.GESTIONNAIRE_CPTS

#: The table. The supervisor may do everything a desk does, except hold a queue's
#: dossier or a task as its own work (QUEUE_TAKERS, TAKE_TASKS) and decide medically.
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.ANSWER_CALLS: frozenset({_N1, _SUP}),
    Action.READ_DOSSIERS: _ALL - {_CPTS},
    Action.EDIT_DOSSIERS: _ALL - {_CPTS},
    Action.QUALIFY: frozenset({_N1, _SUP}),
    Action.FORWARD: frozenset({_N2, _SUP}),
    Action.DECIDE: frozenset({_AMU, _MRL}),
    Action.MOVE_TRACK: frozenset({_AMU, _MRL, _SUP}),
    Action.RESUME_SEARCH: frozenset({_MRL, _SUP}),
    Action.CLOSE_DOSSIERS: frozenset({_N1, _N2, _AMU, _MRL, _SUP}),
    Action.SEE_TASKS: frozenset({_OSNP, _MRL, _SUP}),
    Action.TAKE_TASKS: frozenset({_OSNP}),
    Action.CLOSE_TASKS: frozenset({_OSNP, _SUP}),
    Action.REOPEN_TASKS: frozenset({_OSNP, _SUP}),
    Action.CALL_BACK: frozenset({_OSNP, _SUP}),
    Action.FOLLOW_UP: frozenset({_OSNP, _MRL, _SUP}),
    Action.SEARCH_SLOTS: frozenset({_OSNP, _MRL, _AMU, _SUP}),
    Action.RELEASE_BOOKINGS: frozenset({_OSNP, _MRL, _AMU, _SUP, _CPTS}),
    Action.KEEP_AGENDAS: frozenset({_SUP, _CPTS}),
    Action.IMPORT_DIRECTORY: frozenset({_SUP, _CPTS}),
    Action.READ_STATISTICS: frozenset({_SUP, _CPTS}),
    Action.SUPERVISE: frozenset({_SUP}),
    Action.LISTEN_RECORDINGS: frozenset({_AMU, _MRL, _SUP}),
    Action.READ_AUDIT: frozenset({_SUP}),
    Action.APPOINTMENT_BOARD: frozenset({_OSNP, _MRL, _SUP}),
}

#: The object rule of queues: which roles read, and which take from, each queue.
QUEUE_READERS: dict[Queue, frozenset[Role]] = {
    Queue.AMU_MEDECIN: frozenset({_AMU, _SUP}),
    Queue.AMU_N2: frozenset({_N2, _AMU, _SUP}),
    Queue.SNP: frozenset({_MRL, _SUP}),
}
QUEUE_TAKERS: dict[Queue, frozenset[Role]] = {
    Queue.AMU_MEDECIN: frozenset({_AMU}),
    Queue.AMU_N2: frozenset({_N2, _AMU}),
    Queue.SNP: frozenset({_MRL}),
}

_REFUSALS: dict[Action, str] = {
    Action.ANSWER_CALLS: "le rôle {role} ne décroche pas les appels entrants",
    Action.READ_DOSSIERS: "le rôle {role} n'ouvre pas les dossiers de régulation",
    Action.EDIT_DOSSIERS: "le rôle {role} ne modifie pas les dossiers de régulation",
    Action.QUALIFY: "la priorité est posée par l'ARM de niveau 1 ({role})",
    Action.FORWARD: "seul l'ARM de niveau 2 transmet un dossier au médecin ({role})",
    Action.DECIDE: "seul un médecin régulateur peut enregistrer une décision ({role})",
    Action.MOVE_TRACK: "seul un médecin régulateur change la filière d'un dossier ({role})",
    Action.RESUME_SEARCH: "seul le médecin régulateur libéral reprend un dossier en "
    "recherche de RDV ({role})",
    Action.CLOSE_DOSSIERS: "le rôle {role} ne peut pas clôturer un dossier",
    Action.SEE_TASKS: "le rôle {role} n'a pas accès aux recherches de RDV",
    Action.TAKE_TASKS: "seul un OSNP prend une recherche de RDV ({role})",
    Action.CLOSE_TASKS: "seul un OSNP clôture une recherche de RDV ({role})",
    Action.REOPEN_TASKS: "seul un OSNP rouvre une recherche de RDV ({role})",
    Action.CALL_BACK: "le rôle {role} ne mène pas les rappels des médecins",
    Action.FOLLOW_UP: "le rôle {role} n'a pas accès aux courriers et aux comptes OSNP",
    Action.SEARCH_SLOTS: "le rôle {role} ne peut pas chercher ni réserver de créneaux",
    Action.RELEASE_BOOKINGS: "le rôle {role} ne peut pas annuler une réservation",
    Action.KEEP_AGENDAS: "les agendas sont tenus par le superviseur et les gestionnaires "
    "CPTS ({role})",
    Action.IMPORT_DIRECTORY: "les imports sont réservés au superviseur et aux gestionnaires "
    "CPTS ({role})",
    Action.READ_STATISTICS: "les statistiques sont réservées au superviseur et aux "
    "gestionnaires CPTS ({role})",
    Action.SUPERVISE: "la supervision est réservée au superviseur ({role})",
    Action.LISTEN_RECORDINGS: "seuls les médecins régulateurs et le superviseur écoutent les "
    "enregistrements ({role})",
    Action.READ_AUDIT: "le journal des accès aux dossiers est réservé au superviseur ({role})",
    Action.APPOINTMENT_BOARD: "les rendez-vous reçus sont suivis par les OSNP, les médecins "
    "régulateurs libéraux et le superviseur ({role})",
}


def allowed(role: Role, action: Action) -> bool:
    return role in ALLOWED[action]


def require(role: Role, action: Action) -> None:
    """Refuse (``forbidden``) an action the role may not do, whatever the object."""
    if role not in ALLOWED[action]:
        raise FlowError("forbidden", action.refusal.format(role=role.label))


def roles_for(action: Action) -> frozenset[Role]:
    return ALLOWED[action]


class Permissions(TypedDict):
    """A role's row of the table as the wire carries it (the login's reply,
    app.hub.payloads.LoginReply)."""

    actions: list[str]
    read_queues: list[str]
    take_queues: list[str]


def permissions_of(role: Role) -> Permissions:
    """What the desk of this role receives at login: its actions and its queues."""
    return {
        "actions": sorted(str(a) for a in Action if role in ALLOWED[a]),
        "read_queues": sorted(str(q) for q, roles in QUEUE_READERS.items() if role in roles),
        "take_queues": sorted(str(q) for q, roles in QUEUE_TAKERS.items() if role in roles),
    }


@dataclass(frozen=True)
class Granted:
    """A desk's row of the table, as received at login: what it enables."""

    actions: frozenset[Action]
    read_queues: frozenset[Queue]
    take_queues: frozenset[Queue]

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Granted:
        """Unknown names (a newer hub) are ignored: the desk enables only what it knows."""
        known = {str(a) for a in Action}
        return cls(
            frozenset(Action(a) for a in data.get("actions", []) if a in known),
            frozenset(Queue(q) for q in data.get("read_queues", []) if q in set(Queue)),
            frozenset(Queue(q) for q in data.get("take_queues", []) if q in set(Queue)),
        )

    @classmethod
    def of(cls, role: Role) -> Granted:
        return cls.from_wire(permissions_of(role))

    def can(self, action: Action) -> bool:
        return action in self.actions


def refusal(role: Role, action: Action) -> FlowError | None:
    """The refusal ``require`` would raise, for a caller that records it first (audit)."""
    if role in ALLOWED[action]:
        return None
    return FlowError("forbidden", action.refusal.format(role=role.label))
