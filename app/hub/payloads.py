"""What the hub sends back, typed: the kernel's views (a user, a call, a dossier, a task),
an event's envelope, and the session's replies and events.

TypedDicts cost nothing at run time (the hub's handlers build plain dicts), but mypy
checks the dict literals the hub builds against them, and the desk reads a reply or an
event's ``data`` through them (:func:`as_reply`, :func:`event_data`) instead of
``dict[str, Any]`` lookups. Each feature's protocol module declares its own next to its
intents, and maps each intent to its reply type and each event to its payload type
(``REPLIES``, ``EVENTS``), registered with the :class:`app.hub.protocol.Wire` like the
intents. docs/protocol.md's examples are validated against them (tests/guards/test_docs.py).
Imports no database and no hub-side module: the desk stands on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypeVar, cast

from typing_extensions import TypedDict

from app.domain.permissions import Permissions
from app.hub.events import EventName
from app.hub.protocol import IntentName

T = TypeVar("T")


class UserView(TypedDict):
    id: int
    username: str
    name: str
    role: str
    national_id: str
    platform_id: str


class CallView(TypedDict):
    id: int
    call_ref: str
    line: str
    caller: str
    offered_at: str | None
    answered_at: str | None
    ended_at: str | None
    answered_by_id: int | None
    end_reason: str | None
    abandoned: bool
    desks_rung: int
    recording_path: str | None


class DecidedBy(TypedDict):
    national_id: str
    auth: str


class DossierView(TypedDict):
    id: int
    number: str
    version: int
    line: str
    caller_number: str
    call_id: int | None
    status: str
    priority: str | None
    track: str | None
    queue: str | None
    reflex: bool
    owner: UserView | None
    opened_by_id: int | None
    ringing_at: str | None
    answered_at: str | None
    qualified_at: str | None
    queued_at: str | None
    taken_at: str | None
    decided_at: str | None
    closed_at: str | None
    updated_at: str | None
    patient_age: int | None
    patient_birth_date: str | None
    decision: str | None
    care_level: str | None
    filiere: str | None
    orientation: str | None
    consultation_type: str | None
    means: str | None
    decision_comment: str | None
    decided_by_id: int | None
    #: None before a decision (docs/protocol.md's example predates it: not required).
    decided_by: NotRequired[DecidedBy | None]
    close_reason: str | None
    patient_last_name: str
    patient_first_name: str
    patient_sex: str
    callback_number: str
    commune_insee: str
    commune_name: str
    address: str
    motif: str
    notes: str
    treating_doctor: str


class TaskView(TypedDict):
    id: int
    dossier_id: int
    dossier_number: str
    patient: str
    patient_age: int | None
    commune_name: str
    motif: str
    callback_number: str
    treating_doctor: str
    status: str
    consultation_type: str | None
    profession: str
    specialty: str
    wanted_label: str
    created_at: str | None
    deadline_at: str | None
    owner: UserView | None
    taken_at: str | None
    closed_at: str | None
    outcome: str | None
    appointment_with: str | None
    appointment_at: str | None
    appointment_place: str | None
    no_solution_reason: str | None
    comment: str | None


class TimelineEntry(TypedDict):
    seq: int | None
    at: str | None
    type: str
    actor: str | None
    data: Mapping[str, object] | None


class EventMessage(TypedDict):
    """An event as a desk receives it; ``data`` is the payload its name's type says
    (read it with :func:`event_data`)."""

    type: Literal["event"]
    seq: int
    event: str
    at: str
    actor: str | None
    data: Mapping[str, object]
    dossier: NotRequired[DossierView]
    task: NotRequired[TaskView]
    call: NotRequired[CallView]


def event_data(msg: EventMessage, kind: type[T]) -> T:
    """An event's ``data`` as the TypedDict its name is registered with (no copy, no
    check at run time: the hub built it from the same type)."""
    return cast(T, msg.get("data") or {})


def as_reply(reply: Mapping[str, Any], kind: type[T]) -> T:
    """A reply as the TypedDict of its intent (see each protocol's ``REPLIES``)."""
    return cast(T, reply)


# -- the session -----------------------------------------------------------------------


class LoginReply(TypedDict):
    """``login``, ``resume``, ``login.psc.wait`` and ``login.psc.code`` answered: a
    snapshot follows."""

    token: str
    auth: str
    user: UserView
    permissions: Permissions


class PscStartReply(TypedDict):
    request: str
    binding_message: str
    expires_in: int
    interval: int


class PscAuthorizeReply(TypedDict):
    url: str
    state: str


class PasswordChangeReply(TypedDict):
    sessions_ended: int


class Empty(TypedDict):
    """A reply that says only that it was done (``logout``; ``ping`` is a ``pong``)."""


class PscPolicy(TypedDict):
    enabled: bool
    roles: dict[str, str]
    pkce: bool


class DemoAccount(TypedDict):
    username: str
    name: str
    role: str
    password: str


class Welcome(TypedDict):
    type: Literal["welcome"]
    protocol: int
    hub: str
    demo: bool
    demo_accounts: list[DemoAccount]
    tls: bool
    insecure: bool
    psc: PscPolicy


class SnapshotItems(TypedDict, total=False):
    """What a feature adds to the snapshot (:attr:`app.hub.service.HubService.snapshot_parts`,
    the flow's dossiers, tasks and calls)."""

    dossiers: list[DossierView]
    tasks: list[TaskView]
    calls: list[CallView]


class Snapshot(TypedDict):
    type: Literal["snapshot"]
    at: str
    user: UserView
    dossiers: list[DossierView]
    tasks: list[TaskView]
    calls: list[CallView]


class LoginLocked(TypedDict):
    kind: str  # account / address
    username: str
    address: str
    failures: int
    until: str | None


class PscFallback(TypedDict):
    username: str
    name: str
    role: str
    desk: str
    reason: str
    at: str | None


#: The session's replies (app.hub.session_intents); ``ping`` is answered ``pong``.
SESSION_REPLIES: dict[IntentName, type] = {
    IntentName.LOGIN: LoginReply,
    IntentName.RESUME: LoginReply,
    IntentName.LOGIN_PSC_WAIT: LoginReply,
    IntentName.LOGIN_PSC_CODE: LoginReply,
    IntentName.LOGIN_PSC_START: PscStartReply,
    IntentName.LOGIN_PSC_AUTHORIZE: PscAuthorizeReply,
    IntentName.LOGOUT: Empty,
    IntentName.PING: Empty,
    IntentName.PASSWORD_CHANGE: PasswordChangeReply,
}
SESSION_EVENTS: dict[EventName, type] = {
    EventName.LOGIN_LOCKED: LoginLocked,
    EventName.LOGIN_PSC_FALLBACK: PscFallback,
}
