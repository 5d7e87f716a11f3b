"""Hub Santé messages: the EDXL-DE envelope, its distribution element, and the
official JSON schemas every message is checked against (both ways).

The layout follows SAMU-Hub-Modeles (schemas in ``resources/hubsante/schemas``):
an envelope (``distributionID`` = ``{senderID}_{uuid}``, ``senderID``,
``dateTimeSent``, ``dateTimeExpires``, ``distributionStatus``, ``distributionKind``
Report / Update / Cancel / Ack / Error, ``descriptor.explicitAddress`` = the
recipient's client id) around one ``content[0].jsonContent.embeddedJsonContent
.message``: the distribution element (``messageId``, ``sender``, ``sentAt``,
``kind``, ``status``, ``recipient``) plus one content key (``createCaseHealth``
RS-EDA, ``appointment`` RS-SAS-RDV, ``reference`` RC-REF, ``error`` RS-ERROR).

RS-SAS-RDV has no schema file here: it is checked with the pydantic models PyPI
``hubsante-model`` 3.2.0rc2 generates from it (``hubsante_model.sas.models``, the same
files as SAMU-Hub-Modeles at commit e3d4411b2f30, whose
``RS-SAS-RDV.schema.json`` they come from), plus the schema's
``additionalProperties: false`` that the models do not enforce.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from app.directory.vocab import PARIS
from app.resources import resource

#: The content keys this connector reads and writes, with their schema.
CONTENT_SCHEMAS = {"createCaseHealth": "RS-EDA", "reference": "RC-REF", "error": "RS-ERROR"}
#: Contents checked by hubsante-model's pydantic models (no schema file vendored).
CONTENT_MODELS = {"appointment": "RS-SAS-RDV"}
#: Where each kind of message arrives for a client (the Hub Santé's queue suffixes).
QUEUE_OF_KIND = {"Ack": "ack", "Error": "info"}
_DE_KEYS = {"messageId", "sender", "sentAt", "kind", "status", "recipient"}
#: RS-ERROR codes (SAMU-Hub-Modeles ErrorCode) this connector sends.
INVALID_MESSAGE = (300, "INVALID_MESSAGE")
UNRECOGNIZED_MESSAGE_FORMAT = (102, "UNRECOGNIZED_MESSAGE_FORMAT")
INTERNAL_CLIENT_ERROR = (700, "INTERNAL_CLIENT_ERROR")
#: Past its ``dateTimeExpires``: the Hub Santé delivers it to nobody and tells the sender
#: (SAMU-Hub-Sante MessageUtils.overrideExpirationIfNeeded; the SAS guide's table: "il a
#: expiré avant qu'il ne le dépile"). ErrorCode spells it DEAD_LETTER_QUEUED.
DEAD_LETTER_QUEUED = (500, "DEAD_LETTER_QUEUED")
WRONG_MESSAGE_SEQUENCE = (702, "WRONG_MESSAGE_SEQUENCE")
UNKNOWN_SENDER = (703, "UNKNOWN_SENDER")
#: The SAS guide (transmission-info-RDV-LRM): "409 (CONFLICT) - L'identifiant du RDV à
#: créer existe déjà", sent by the LRM to the platform.
CONFLICT = (409, "CONFLICT")


def _schemas_dir() -> Path:
    return resource("hubsante", "schemas")


@cache
def validator(name: str) -> Draft7Validator:
    schema = json.loads((_schemas_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def _errors(name: str, instance: Any, where: str) -> list[str]:
    out = []
    for e in sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path)):
        path = "/".join(str(p) for p in e.absolute_path)
        out.append(f"{where}{'/' + path if path else ''} : {e.message}"[:500])
    return out


def _model_errors(name: str, instance: Any, where: str) -> list[str]:
    """What hubsante-model's generated model of ``name`` finds wrong, with the schema's
    ``additionalProperties: false`` checked too (pydantic ignores unknown keys)."""
    from pydantic import BaseModel, ValidationError

    model = _content_model(name)
    out: list[str] = []

    def extras(cls: type[BaseModel], value: Any, path: str) -> None:
        if not isinstance(value, dict):
            return
        fields = {f.alias or n: f for n, f in cls.model_fields.items()}
        for key in sorted(set(value) - set(fields), key=str):
            out.append(f"{where}{path} : propriété {key!r} non prévue par {name}")
        for key, f in fields.items():
            sub = f.annotation
            inner = [a for a in getattr(sub, "__args__", (sub,)) if isinstance(a, type)]
            for cls_ in inner:
                if issubclass(cls_, BaseModel) and key in value:
                    extras(cls_, value[key], f"{path}/{key}")

    if not isinstance(instance, dict):
        return [f"{where} : objet JSON attendu"]
    extras(model, instance, "")
    try:
        model.model_validate(instance)
    except ValidationError as exc:
        for e in exc.errors():
            path = "/".join(str(p) for p in e["loc"])
            out.append(f"{where}/{path} : {e['msg']}"[:500])
    return out


@cache
def _content_model(name: str) -> Any:
    if name == "RS-SAS-RDV":
        from hubsante_model.sas.models.appointment import Appointment

        return Appointment
    raise KeyError(name)


def expired(envelope: dict[str, Any], now: datetime) -> bool:
    """Past its ``dateTimeExpires``: its data must not be delivered any more."""
    try:
        expires = datetime.fromisoformat(str(envelope.get("dateTimeExpires")))
    except ValueError:
        return False  # the envelope schema said what was wrong with it
    return expires.tzinfo is not None and expires < now


def iso(at: datetime) -> str:
    """The Hub Santé's date-time: Paris offset, seconds, never ``Z``."""
    return at.astimezone(PARIS).isoformat(timespec="seconds")


def message_of(envelope: dict[str, Any]) -> dict[str, Any] | None:
    try:
        message = envelope["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    except (KeyError, IndexError, TypeError):
        return None
    return message if isinstance(message, dict) else None


def content_key(message: dict[str, Any]) -> str | None:
    keys = [k for k in message if k not in _DE_KEYS]
    return keys[0] if len(keys) == 1 else None


def problems(envelope: Any) -> list[str]:
    """Everything the official schemas find wrong with a message (empty: valid)."""
    if not isinstance(envelope, dict):
        return ["le message n'est pas un objet JSON"]
    found = _errors("EDXL-DE-envelope-only", envelope, "enveloppe")
    message = message_of(envelope)
    if message is None:
        return found or ["content[0].jsonContent.embeddedJsonContent.message absent"]
    key = content_key(message)
    if key is None:
        extra = sorted(k for k in message if k not in _DE_KEYS)
        return found + [f"message : un seul contenu attendu, trouvé {extra or 'aucun'}"]
    if key not in CONTENT_SCHEMAS and key not in CONTENT_MODELS:
        return found + [f"message : contenu « {key} » non pris en charge par ce système"]
    if key != "error":  # the hub's own errors carry no distribution element
        found += _errors("RC-DE", message, "message")
    if key in CONTENT_MODELS:
        found += _model_errors(CONTENT_MODELS[key], message[key], f"message/{key}")
    else:
        found += _errors(CONTENT_SCHEMAS[key], message[key], f"message/{key}")
    return found


@dataclass(frozen=True)
class Parsed:
    envelope: dict[str, Any]
    distribution_id: str
    sender_id: str
    recipient_id: str
    kind: str
    key: str
    body: dict[str, Any]


class InvalidMessage(ValueError):
    def __init__(self, cause: str, envelope: Any = None, code: tuple[int, str] = INVALID_MESSAGE):
        super().__init__(cause)
        self.cause = cause
        self.envelope = envelope
        self.code = code

    @property
    def distribution_id(self) -> str:
        env = self.envelope if isinstance(self.envelope, dict) else {}
        return str(env.get("distributionID") or "")

    @property
    def sender_id(self) -> str:
        env = self.envelope if isinstance(self.envelope, dict) else {}
        return str(env.get("senderID") or "")


def parse(raw: bytes) -> Parsed:
    """A received message, checked against the official schemas, or InvalidMessage."""
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(
            f"message illisible (JSON UTF-8 attendu) : {exc}", None, UNRECOGNIZED_MESSAGE_FORMAT
        ) from None
    found = problems(envelope)
    if found:
        raise InvalidMessage("; ".join(found), envelope)
    message = message_of(envelope)
    assert message is not None
    key = content_key(message)
    assert key is not None
    return Parsed(
        envelope,
        str(envelope["distributionID"]),
        str(envelope["senderID"]),
        str(envelope["descriptor"]["explicitAddress"]["explicitAddressValue"]),
        str(envelope["distributionKind"]),
        key,
        message[key],
    )


def build(
    sender_id: str,
    recipient_id: str,
    kind: str,
    key: str,
    body: dict[str, Any],
    *,
    now: datetime,
    status: str = "Actual",
    expires: timedelta = timedelta(days=1),
) -> dict[str, Any]:
    """An envelope around one content, as the Hub Santé routes it."""
    distribution_id = f"{sender_id}_{uuid.uuid4()}"
    sent = iso(now)
    message: dict[str, Any] = {
        "messageId": distribution_id,
        "sender": {"name": sender_id, "URI": f"hubex:{sender_id}"},
        "sentAt": sent,
        "kind": kind,
        "status": status,
        "recipient": [{"name": recipient_id, "URI": f"hubex:{recipient_id}"}],
        key: body,
    }
    return {
        "distributionID": distribution_id,
        "senderID": sender_id,
        "dateTimeSent": sent,
        "dateTimeExpires": iso(now + expires),
        "distributionStatus": status,
        "distributionKind": kind,
        "descriptor": {
            "language": "fr-FR",
            "explicitAddress": {
                "explicitAddressScheme": "hubex",
                "explicitAddressValue": recipient_id,
            },
        },
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": message}}}],
    }


def reference(sender_id: str, received: Parsed, now: datetime) -> dict[str, Any]:
    """RC-REF: the acknowledgement of a message, sent back to its sender."""
    return build(sender_id, received.sender_id, "Ack", "reference",
                 {"distributionID": received.distribution_id}, now=now)  # fmt: skip


def error(
    sender_id: str, recipient_id: str, refused: InvalidMessage, now: datetime
) -> dict[str, Any]:
    """RS-ERROR: why a message was refused, sent back to its sender."""
    body: dict[str, Any] = {
        "errorCode": {"statusCode": refused.code[0], "statusString": refused.code[1]},
        "errorCause": refused.cause[:4000],
        "referencedDistributionID": refused.distribution_id or "inconnu",
    }
    if isinstance(refused.envelope, dict):
        body["sourceMessage"] = refused.envelope
    return build(sender_id, recipient_id, "Error", "error", body, now=now)
