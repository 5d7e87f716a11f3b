"""The desk ↔ hub messages: the kernel's wire types, and the session's and flow's intents.

A message is a JSON object with ``type`` and an optional client ``id`` echoed in the
reply as ``re``. Validation failures become error replies naming the field; they
never reach the flow. See docs/protocol.md for examples of every message.

Each feature's intents live in its own protocol module (``app/<feature>/protocol.py``),
which imports only the domain and this module; a side of the wire speaks the intents it
registers in a :class:`Wire` (the hub from its extensions, the desk from the protocol
modules it uses), never whatever happens to be imported. This module and
``app.hub.events`` import no database and no hub-side module: the desk stands on them.
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic._internal._model_construction import ModelMetaclass

from app.hub.events import SLOT_EVENTS, EventName, event_message

__all__ = ["SLOT_EVENTS", "EventName", "event_message"]  # re-exported: one protocol module

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024
#: Deeper JSON than this is refused before validation (no intent nests more than 4).
MAX_DEPTH = 16
#: Dates a desk may send: beyond these no regulation, appointment or birth makes sense,
#: and arithmetic on them (deadlines, time zones) would overflow.
DATETIME_YEARS = (2000, 2100)
DATE_YEARS = (1880, 2100)

Short = Annotated[str, StringConstraints(max_length=255, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=8000)]
Phone = Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9+ .()-]*$")]
Insee = Annotated[str, StringConstraints(pattern=r"^(|[0-9][0-9AB][0-9]{3})$")]
ReqId = Annotated[str, StringConstraints(max_length=64)] | int | None
EntityId = Annotated[int, Field(gt=0, lt=2**53)]
Code = Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)]


class IntentName(StrEnum):
    """Every intent a desk may send (extensions' included): the wire ``type``."""

    AGENDA_EFFECTEURS = "agenda.effecteurs"
    AGENDA_SLOT_CANCEL = "agenda.slot.cancel"
    AGENDA_SLOT_CREATE = "agenda.slot.create"
    AGENDA_SLOT_UPDATE = "agenda.slot.update"
    AGENDA_UNAVAILABILITY_ADD = "agenda.unavailability.add"
    AGENDA_UNAVAILABILITY_REMOVE = "agenda.unavailability.remove"
    APPOINTMENT_ATTACH = "appointment.attach"
    APPOINTMENT_BOARD = "appointment.board"
    APPOINTMENT_JOURNAL = "appointment.journal"
    APPOINTMENT_PLATFORM_SEARCH = "appointment.platform_search"
    AGENDA_VIEW = "agenda.view"
    AUDIT_LIST = "audit.list"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_OFFERED = "call.offered"
    CALL_RECORDING = "call.recording"
    CALLBACK_APPOINTMENT_STATUS = "callback.appointment.status"
    CALLBACK_ATTEMPT = "callback.attempt"
    CALLBACK_BILLING = "callback.billing"
    CALLBACK_LETTER = "callback.letter"
    CALLBACK_PATIENT_TEXT = "callback.patient_text"
    CALLBACK_PLAN = "callback.plan"
    CALLBACK_PLAN_REORDER = "callback.plan.reorder"
    CALLBACK_SCRIPT = "callback.script"
    CALLBACK_STATS = "callback.stats"
    CALLBACK_TARGET_ADD = "callback.target.add"
    CALLBACK_TARGET_SKIP = "callback.target.skip"
    DESK_STATE = "desk.state"
    DIRECTORY_IMPORT = "directory.import"
    DIRECTORY_REFRESH = "directory.refresh"
    DIRECTORY_SEARCH = "directory.search"
    DIRECTORY_UPLOAD = "directory.upload"
    DOSSIER_CLOSE = "dossier.close"
    DOSSIER_DECIDE = "dossier.decide"
    DOSSIER_EXPORT = "dossier.export"
    DOSSIER_FORWARD = "dossier.forward"
    DOSSIER_GET = "dossier.get"
    DOSSIER_LINK = "dossier.link"
    DOSSIER_MOVE_TRACK = "dossier.move_track"
    DOSSIER_NOTE = "dossier.note"
    DOSSIER_QUALIFY = "dossier.qualify"
    DOSSIER_RELEASE = "dossier.release"
    DOSSIER_SEARCH = "dossier.search"
    DOSSIER_TAKE = "dossier.take"
    DOSSIER_UPDATE = "dossier.update"
    HISTORY_CALLER = "history.caller"
    HUBSANTE_JOURNAL = "hubsante.journal"
    LOGIN = "login"
    LOGIN_PSC_AUTHORIZE = "login.psc.authorize"
    LOGIN_PSC_CODE = "login.psc.code"
    LOGIN_PSC_START = "login.psc.start"
    LOGIN_PSC_WAIT = "login.psc.wait"
    LOGOUT = "logout"
    PASSWORD_CHANGE = "password.change"
    PING = "ping"
    QUEUE_LIST = "queue.list"
    QUEUE_NEXT = "queue.next"
    RECORDING_CHUNK = "recording.chunk"
    RECORDING_COMMIT = "recording.commit"
    RECORDING_LIST = "recording.list"
    RECORDING_OPEN = "recording.open"
    RECORDING_OUTGOING = "recording.outgoing"
    RECORDING_PLACED = "recording.placed"
    RECORDING_READ = "recording.read"
    RESUME = "resume"
    SLOT_BOOK = "slot.book"
    SLOT_BOOK_BEYOND = "slot.book_beyond"
    SLOT_RELEASE = "slot.release"
    STATS_LIVE = "stats.live"
    STATS_REPORT = "stats.report"
    TASK_CLOSE = "task.close"
    TASK_REOPEN = "task.reopen"
    TASK_TAKE = "task.take"


class _IntentMeta(ModelMetaclass):
    """Gives an intent its wire name once: ``class Ping(Intent, name=IntentName.PING)``
    declares the ``type`` field (``Literal[IntentName.PING]``, its default the name), so
    the message on the wire is what it was when every intent spelled that field out."""

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type[Any], ...],
        namespace: dict[str, Any],
        name: IntentName | None = None,
        **kwargs: Any,
    ) -> type:
        if name is not None:
            if "type" in namespace.get("__annotations__", {}):
                raise TypeError(f"{cls_name}: the wire name is given once (name=), not as type")
            namespace["__annotations__"] = {
                "type": Literal[name],  # built at run time from the class keyword
                **namespace.get("__annotations__", {}),
            }
            namespace["type"] = name
        return super().__new__(mcs, cls_name, bases, namespace, **kwargs)


class Intent(BaseModel, metaclass=_IntentMeta):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: ReqId = None
    #: Reads only (reports, listings): run beside the single writer, not in its queue,
    #: so a long report never delays a desk's intent.
    read_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # ``name=`` is the metaclass's (see _IntentMeta); declared here for the type checker.
        super().__init_subclass__(**kwargs)

    def wire(self) -> dict[str, Any]:
        """The message as a desk sends it (JSON-ready, aliases such as ``with``), the
        request ``id`` left to the client."""
        return self.model_dump(mode="json", by_alias=True, exclude={"id"})


class Login(Intent, name=IntentName.LOGIN):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    desk: Short = ""
    #: Why a role that must use Pro Santé Connect logs in with its password (accepted
    #: only while PSC is unreachable, audited, the supervisors told).
    fallback_reason: Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] = ""


#: A professional's national identifier as PSC names it: 8 + RPPS (11 digits), 0 + ADELI.
NationalIdText = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class LoginPscStart(Intent, name=IntentName.LOGIN_PSC_START):
    """Pro Santé Connect login (CIBA): the hub asks PSC to reach the professional; the
    reply gives the two-digit code to show. ``username``: the account being re-proved."""

    national_id: NationalIdText
    desk: Short = ""
    username: Annotated[str, StringConstraints(max_length=64)] = ""


class LoginPscWait(Intent, name=IntentName.LOGIN_PSC_WAIT):
    """Answered when PSC answered: the login reply, or why not."""

    request: Annotated[str, StringConstraints(min_length=8, max_length=64)]


class LoginPscAuthorize(Intent, name=IntentName.LOGIN_PSC_AUTHORIZE):
    """Pro Santé Connect through the system browser (authorization code with PKCE)."""

    redirect_uri: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    desk: Short = ""


class LoginPscCode(Intent, name=IntentName.LOGIN_PSC_CODE):
    """The code PSC redirected the browser with, for the hub to exchange."""

    state: Annotated[str, StringConstraints(min_length=8, max_length=128)]
    code: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class Resume(Intent, name=IntentName.RESUME):
    token: Annotated[str, StringConstraints(min_length=16, max_length=128)]
    desk: Short = ""


class Logout(Intent, name=IntentName.LOGOUT):
    """End this desk's session."""


class Ping(Intent, name=IntentName.PING):
    """Is the hub there? Answered ``pong``."""


class PasswordChange(Intent, name=IntentName.PASSWORD_CHANGE):
    """The logged-in user changes their own password: the old one is checked (off the
    writer, throttled like a login), the new one must follow the policy."""

    old_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


#: The session's intents, answered by the hub's server itself (app.hub.server).
SESSION_INTENTS: tuple[type[Intent], ...] = (
    Login,
    Resume,
    Logout,
    Ping,
    PasswordChange,
    LoginPscStart,
    LoginPscWait,
    LoginPscAuthorize,
    LoginPscCode,
)


def intent_name(cls: type[Intent]) -> IntentName:
    """The wire ``type`` of an intent class."""
    field = cls.model_fields.get("type")
    if field is None:
        raise TypeError(f"{cls.__name__} has no wire name (class …(Intent, name=IntentName.X))")
    return IntentName(get_args(field.annotation)[0])


class Wire:
    """The intents one side of the wire speaks, registered explicitly.

    The hub builds its wire from the session's and flow's intents and each installed
    extension's (app.room.hub_wire); the desk from the protocol modules it uses
    (app.client.wire). Parsing looks the ``type`` up here: an intent no one registered is
    refused as ``unknown_type``, whatever module defined it.
    """

    def __init__(
        self,
        *protocols: Iterable[type[Intent]],
        replies: Iterable[dict[IntentName, type]] = (),
        events: Iterable[dict[EventName, type]] = (),
    ):
        by_name: dict[str, type[Intent]] = {}
        for intents in protocols:
            for cls in intents:
                name = str(intent_name(cls))
                other = by_name.setdefault(name, cls)
                if other is not cls:
                    raise ValueError(
                        f"{name}: two models, {other.__qualname__} and {cls.__qualname__}"
                    )
        self._by_name = by_name
        self.names: frozenset[str] = frozenset(by_name)
        #: Each intent's reply and each event's ``data`` as a TypedDict (app.hub.payloads),
        #: from the same protocol modules as the intents: what the hub builds, what the
        #: desk reads, what docs/protocol.md's examples are checked against.
        self.replies: dict[str, type] = _merged(replies, "reply")
        self.events: dict[str, type] = _merged(events, "event")

    def __contains__(self, cls: object) -> bool:
        return any(model is cls for model in self._by_name.values())

    def get(self, name: str) -> type[Intent] | None:
        return self._by_name.get(name)

    @property
    def intents(self) -> tuple[type[Intent], ...]:
        return tuple(self._by_name[n] for n in sorted(self._by_name))

    def intent_class(self, name: str) -> type[Intent]:
        """The model of an intent from its wire name."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no intent model for {name!r} (is its protocol registered?)") from None

    def parse(self, raw: str | bytes) -> Intent:
        return parse_intent(raw, self)


def _merged(tables: Iterable[dict[Any, type]], what: str) -> dict[str, type]:
    out: dict[str, type] = {}
    for table in tables:
        for name, kind in table.items():
            other = out.setdefault(str(name), kind)
            if other is not kind:
                raise ValueError(f"{name}: two {what} types, {other.__name__} and {kind.__name__}")
    return out


class ProtocolError(Exception):
    """A message the hub cannot accept; becomes an error reply, changes nothing."""

    def __init__(self, code: str, message: str, re: object = None, details: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.re = re
        self.details = details

    def reply(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.re is not None:
            out["re"] = self.re
        if self.details:
            out["details"] = self.details
        return out


def parse_intent(raw: str | bytes, wire: Wire) -> Intent:
    """Decode and validate one message against the intents ``wire`` registers, or raise
    ProtocolError saying what is wrong."""
    size = len(raw) if isinstance(raw, bytes) or raw.isascii() else len(raw.encode())
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            "too_large", f"message de {size} octets, limite {MAX_MESSAGE_BYTES} octets"
        )
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ProtocolError(
            "invalid_message",
            f"message imbriqué trop profondément (limite {MAX_DEPTH})",
            details=[{"field": "message", "problem": "nesting too deep"}],
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("invalid_json", f"JSON invalide : {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "un message doit être un objet JSON")
    re = data.get("id") if isinstance(data.get("id"), str | int) else None
    if not _plainly_safe(raw):
        _check_raw(data, re)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("invalid_message", "champ « type » manquant ou non textuel", re)
    model = wire.get(kind)
    if model is None:
        raise ProtocolError("unknown_type", f"type de message inconnu : {kind[:64]!r}", re)
    try:
        intent: Intent = model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_context=False)
        ]
        summary = "; ".join(f"{d['field'] or 'message'}: {d['problem']}" for d in details[:5])
        raise ProtocolError(
            "invalid_message", f"message {kind} invalide — {summary}", re, details
        ) from None
    _check_times(intent, (), kind, re)
    return intent


def _invalid(kind: str, field: str, problem: str, re: object) -> ProtocolError:
    return ProtocolError(
        "invalid_message",
        f"message {kind} invalide — {field or 'message'}: {problem}",
        re,
        [{"field": field, "problem": problem}],
    )


def _plainly_safe(raw: str | bytes) -> bool:
    """No NUL and no deep nesting, seen from the text alone (most messages): JSON spells
    a NUL only ``\\u0000``, and fewer brackets than the depth limit cannot nest deeper.
    False says nothing: the decoded message is then walked (:func:`_check_raw`)."""
    if isinstance(raw, bytes):
        return b"\\u0000" not in raw and raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH
    return "\\u0000" not in raw and raw.count("{") + raw.count("[") <= MAX_DEPTH


def _check_raw(data: dict[str, Any], re: object) -> None:
    """Depth and NUL characters, before validation (PostgreSQL text refuses NUL)."""
    kind = str(data.get("type", "?"))[:64]
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise _invalid(kind, ".".join(path), f"nesting deeper than {MAX_DEPTH}", re)
        if isinstance(value, str):
            if "\x00" in value:
                raise _invalid(kind, ".".join(path), "NUL character not allowed", re)
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise _invalid(kind, ".".join(path), "NUL character in a key", re)
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(n))) for n, item in enumerate(value))


def _check_times(value: Any, path: tuple[str, ...], kind: str, re: object) -> None:
    """Every time a desk sends carries its UTC offset and a plausible year."""
    if isinstance(value, datetime):
        where = ".".join(path)
        if value.tzinfo is None or value.utcoffset() is None:
            raise _invalid(kind, where, "time without UTC offset (e.g. +01:00)", re)
        low, high = DATETIME_YEARS
        if not low <= value.year <= high:
            raise _invalid(kind, where, f"year {value.year} outside {low}-{high}", re)
    elif isinstance(value, date):
        low, high = DATE_YEARS
        if not low <= value.year <= high:
            raise _invalid(kind, ".".join(path), f"year {value.year} outside {low}-{high}", re)
    elif isinstance(value, BaseModel):
        for name in _timed_fields(type(value)):
            _check_times(getattr(value, name), (*path, name), kind, re)
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check_times(item, (*path, str(n)), kind, re)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_times(item, (*path, str(key)), kind, re)


#: Types whose values are never a date or a time.
_TIMELESS: tuple[type, ...] = (str, bytes, bool, int, float, Enum, type(None))


@functools.cache
def _timed_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` that may hold a date or a time, nested or not: the only
    ones :func:`_check_times` visits (most intents have none, some a nested model)."""
    return tuple(
        name for name, info in model.model_fields.items() if _may_hold_time(info.annotation)
    )


def _may_hold_time(annotation: Any) -> bool:
    """Whether a value of this annotation may be, or contain, a date or a time. Unsure
    (``Any``, a class not known here) says yes: the value is then walked."""
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        if issubclass(annotation, BaseModel):
            return bool(_timed_fields(annotation))
        return not issubclass(annotation, _TIMELESS)
    origin = get_origin(annotation)
    if origin is Literal:
        return False
    args = get_args(annotation)
    if origin is Annotated:
        return _may_hold_time(args[0])
    if origin in (Union, types.UnionType, list, tuple, dict, set, frozenset) and args:
        return any(_may_hold_time(a) for a in args if a is not Ellipsis)
    return True
