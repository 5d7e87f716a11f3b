"""The desk ↔ hub messages. Every intent a desk can send is a model here.

A message is a JSON object with ``type`` and an optional client ``id`` echoed in the
reply as ``re``. Validation failures become error replies naming the field; they
never reach the flow. See docs/protocol.md for examples of every message.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from app.domain.enums import (
    CareLevel,
    ConsultationType,
    Decision,
    Filiere,
    Line,
    Means,
    NoSolutionReason,
    Orientation,
    Priority,
    Queue,
    Sex,
    TaskOutcome,
    Track,
)

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


_adapter_cache: dict[str, tuple[TypeAdapter[Any], frozenset[str]]] = {}


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: ReqId = None
    #: Reads only (reports, listings): run beside the single writer, not in its queue,
    #: so a long report never delays a desk's intent.
    read_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _adapter_cache.clear()  # an extension defined a new intent: rebuild the union


class Login(Intent):
    type: Literal["login"]
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    desk: Short = ""


class Resume(Intent):
    type: Literal["resume"]
    token: Annotated[str, StringConstraints(min_length=16, max_length=128)]
    desk: Short = ""


class Logout(Intent):
    type: Literal["logout"]


class Ping(Intent):
    type: Literal["ping"]


class CallOffered(Intent):
    """The desk's line rings (a fork rings several desks with the same call_ref)."""

    type: Literal["call.offered"]
    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    line: Line
    caller: Phone = ""
    ringing_at: datetime | None = None


class CallAnswered(Intent):
    type: Literal["call.answered"]
    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class CallEnded(Intent):
    type: Literal["call.ended"]
    call_ref: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    reason: Annotated[str, StringConstraints(max_length=32)] = ""


# ``call.recording`` (the call's WAV, uploaded to the hub's store) is in app/recordings/hub.py.


class DossierFields(BaseModel):
    """The fields a desk may type into a dossier; all optional (partial update)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    patient_last_name: Short | None = None
    patient_first_name: Short | None = None
    patient_sex: Sex | None = None
    patient_age: Annotated[int, Field(ge=0, le=130)] | None = None
    patient_birth_date: date | None = None
    callback_number: Phone | None = None
    commune_insee: Insee | None = None
    commune_name: Short | None = None
    address: Text | None = None
    motif: Text | None = None
    notes: Text | None = None
    treating_doctor: Short | None = None


class DossierUpdate(Intent):
    type: Literal["dossier.update"]
    dossier_id: EntityId
    fields: DossierFields


class DossierQualify(Intent):
    type: Literal["dossier.qualify"]
    dossier_id: EntityId
    priority: Priority


class DossierClose(Intent):
    type: Literal["dossier.close"]
    dossier_id: EntityId
    reason: Text = ""


class DossierTake(Intent):
    type: Literal["dossier.take"]
    dossier_id: EntityId


class QueueNext(Intent):
    """Take the dossier that has waited longest at the highest priority."""

    type: Literal["queue.next"]
    queue: Queue


class QueueList(Intent):
    type: Literal["queue.list"]
    queue: Queue


class DossierRelease(Intent):
    type: Literal["dossier.release"]
    dossier_id: EntityId
    reason: Text = ""


class DossierForward(Intent):
    """ARM N2 hands an AMU dossier to the AMU doctor."""

    type: Literal["dossier.forward"]
    dossier_id: EntityId
    queue: Queue


class DossierMoveTrack(Intent):
    type: Literal["dossier.move_track"]
    dossier_id: EntityId
    track: Track
    reason: Text = ""


class DossierDecide(Intent):
    type: Literal["dossier.decide"]
    dossier_id: EntityId
    decision: Decision
    care_level: CareLevel
    filiere: Filiere
    orientation: Orientation | None = None
    consultation_type: ConsultationType | None = None
    means: Means | None = None
    comment: Text = ""


class DossierGet(Intent):
    type: Literal["dossier.get"]
    dossier_id: EntityId


class DossierNote(Intent):
    type: Literal["dossier.note"]
    dossier_id: EntityId
    text: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class TaskTake(Intent):
    type: Literal["task.take"]
    task_id: EntityId


class Appointment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    with_: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(alias="with")
    at: datetime
    place: Text = ""
    consultation_type: ConsultationType | None = None


class TaskReopen(Intent):
    """Search again after a cancelled appointment or a no-show, before the deadline."""

    type: Literal["task.reopen"]
    task_id: EntityId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=8000)]


class TaskClose(Intent):
    type: Literal["task.close"]
    task_id: EntityId
    outcome: TaskOutcome
    appointment: Appointment | None = None
    no_solution_reason: NoSolutionReason | None = None
    comment: Text = ""


def _concrete_intents() -> list[type[Intent]]:
    found: list[type[Intent]] = []
    stack = list(Intent.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "type" in cls.model_fields:
            found.append(cls)
    return found


def _adapter() -> tuple[TypeAdapter[Any], frozenset[str]]:
    """The discriminated union of every intent defined so far (extensions included)."""
    cached = _adapter_cache.get("current")
    if cached is None:
        intents = sorted(_concrete_intents(), key=lambda c: c.__name__)
        union = Union[tuple(intents)]  # type: ignore[valid-type]  # noqa: UP007 (built at run time)
        adapter: TypeAdapter[Any] = TypeAdapter(
            Annotated[union, Field(discriminator="type")]  # type: ignore[arg-type]
        )
        cached = (adapter, intent_types())
        _adapter_cache["current"] = cached
    return cached


def intent_types() -> frozenset[str]:
    return frozenset(
        c.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        for c in _concrete_intents()
    )


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


def parse_intent(raw: str | bytes) -> Intent:
    """Decode and validate one message, or raise ProtocolError saying what is wrong."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            "too_large", f"message de {size} octets, limite {MAX_MESSAGE_BYTES} octets"
        )
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ProtocolError(
            "invalid_message", f"message imbriqué trop profondément (limite {MAX_DEPTH})",
            details=[{"field": "message", "problem": "nesting too deep"}],
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("invalid_json", f"JSON invalide : {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "un message doit être un objet JSON")
    re = data.get("id") if isinstance(data.get("id"), str | int) else None
    _check_raw(data, re)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("invalid_message", "champ « type » manquant ou non textuel", re)
    adapter, known = _adapter()
    if kind not in known:
        raise ProtocolError("unknown_type", f"type de message inconnu : {kind[:64]!r}", re)
    try:
        intent: Intent = adapter.validate_python(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"][1:]), "problem": err["msg"]}
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
        for name in type(value).model_fields:
            _check_times(getattr(value, name), (*path, name), kind, re)
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check_times(item, (*path, str(n)), kind, re)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_times(item, (*path, str(key)), kind, re)
