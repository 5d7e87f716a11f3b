"""RS-SAS-RDV: the appointments the national SAS platform books, as it sends them to
the SAMU's regulation software through the Hub Santé.

The Hub Santé connector (app/interop/hubsante/inbox.py) hands over each ``appointment``
message it received on our ``message`` queue from the platform (``fr.health.ptfsas``,
``fr.health.test.ptfsas`` off production), already checked against the models of PyPI
``hubsante-model`` 3.2.0rc2. This module applies it inside the inbox's transaction, in
the savepoint of that message: the appointment (table ``appointments``, source
``platform``, identifier = ``appointmentId``), its journal line
(``appointment_messages``) and its event commit together, or nothing of them does.

The rules are the SAS guide's (``ansforge/IG-fhir-service-acces-aux-soins`` at commit
d765be27c411, ``specifications_techniques-transmission-info-RDV-LRM.md``):

- ``CreateAppointment`` of an ``appointmentId`` already known: refused with
  ``409 CONFLICT`` ("L'identifiant du RDV à créer existe déjà");
- ``UpdateAppointment`` of an unknown id: "la solution LRM devra pouvoir gérer le message
  en tant que création avec les données contenues dans le message";
- an update carries the whole appointment as it stands: one that changes nothing is a
  replay (acknowledged, journalled ``replayed``, no event);
- a fate once known (fulfilled, noshow, cancelled) is final, as for the editors'
  feedback: an update taking it back is refused ``702 WRONG_MESSAGE_SEQUENCE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.appointments.fhir import FINAL, Issue
from app.appointments.models import Appointment
from app.appointments.store import journal
from app.directory.models import Effecteur
from app.hub.service import Unit

PLATFORM = "platform"
CONTENT = "appointment"
CREATE = "CreateAppointment"
#: Lengths of our columns: longer values are refused, never cut.
_LIMITS = {
    "appointmentId": 255,
    "regulatorId": 64,
    "regulatorEmail": 255,
    "organizationId": 64,
    "organizationName": 255,
    "practitionerName": 255,
    "regulatorName": 255,
}
_FINAL = frozenset(s.value for s in FINAL)


class Rejected(Exception):
    """A valid message this system cannot take: the RS-ERROR ``code`` and its cause."""

    def __init__(self, code: tuple[int, str], cause: str, issue: Issue):
        super().__init__(cause)
        self.code = code
        self.cause = cause
        self.issue = issue


@dataclass(frozen=True)
class PlatformAppointment:
    """An RS-SAS-RDV ``appointment``, read (its schema already checked)."""

    appointment_id: str
    method: str
    created: datetime
    start: datetime
    end: datetime | None
    status: str
    orientation_category: str
    rpps_id: str  # "8" + RPPS, or "" when no practitioner is named yet
    practitioner_name: str
    organization_id: str
    organization_name: str
    regulator_id: str  # the regulator's national identifier (IDNPS), or ""
    regulator_name: str
    regulator_email: str


def _instant(body: dict[str, Any], name: str) -> datetime | None:
    raw = body.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise _invalid(name, f"date et heure impossibles : {raw!r}") from None


def _invalid(name: str, why: str) -> Rejected:
    from app.interop.hubsante.messages import INVALID_MESSAGE

    where = f"message/appointment/{name}"
    return Rejected(INVALID_MESSAGE, f"{where} : {why}", Issue("invalid", where, why))


def read(body: dict[str, Any]) -> PlatformAppointment:
    """What the schema cannot say: real dates, an end after the start, our lengths."""
    practitioner = body.get("practitioner") or {}
    organization = body.get("organization") or {}
    regulator = body["regulator"]
    created, start = _instant(body, "created"), _instant(body, "start")
    end = _instant(body, "end")
    assert created is not None and start is not None  # required by the schema
    if end is not None and end <= start:
        raise _invalid("end", "la fin du rendez-vous doit être après son début")
    a = PlatformAppointment(
        appointment_id=body["appointmentId"],
        method=body["method"],
        created=created,
        start=start,
        end=end,
        status=body["status"],
        orientation_category=body.get("orientationCategory") or "",
        rpps_id=practitioner.get("rppsId", ""),
        practitioner_name=" ".join(
            p for p in (practitioner.get("firstName", ""), practitioner.get("lastName", "")) if p
        ),
        organization_id=organization.get("organizationId", ""),
        organization_name=organization.get("name", ""),
        regulator_id=regulator.get("regulatorId") or "",
        regulator_name=" ".join(
            p for p in (regulator["regulatorFirstname"], regulator["regulatorName"]) if p
        ),
        regulator_email=regulator["regulatorEmail"],
    )
    values = {
        "appointmentId": a.appointment_id,
        "regulatorId": a.regulator_id,
        "regulatorEmail": a.regulator_email,
        "organizationId": a.organization_id,
        "organizationName": a.organization_name,
        "practitionerName": a.practitioner_name,
        "regulatorName": a.regulator_name,
    }
    for name, value in values.items():
        if len(value) > _LIMITS[name]:
            raise _invalid(name, f"{len(value)} caractères, au plus {_LIMITS[name]} ici")
    if not a.appointment_id.strip():
        raise _invalid("appointmentId", "identifiant du rendez-vous vide")
    return a


def _fields(s: Session, a: PlatformAppointment) -> dict[str, Any]:
    effecteur = None
    if a.rpps_id:  # "8" + the 11-digit RPPS (the schema's ^81[0-9]{10}$)
        effecteur = s.scalar(select(Effecteur).where(Effecteur.rpps == a.rpps_id[1:]))
    return {
        "status": a.status,
        "start": a.start,
        "end": a.end or a.start,
        "end_known": a.end is not None,
        "regulator_id": a.regulator_id,
        "regulator_national": bool(a.regulator_id),
        "regulator_name": a.regulator_name,
        "regulator_email": a.regulator_email,
        "effecteur_national_id": a.rpps_id,
        "effecteur_id": effecteur.id if effecteur is not None else None,
        "practitioner_name": a.practitioner_name,
        "organization_id": a.organization_id,
        "organization_name": a.organization_name,
        "orientation_category": a.orientation_category,
        "booked_at": a.created,
    }


def _same(row: Appointment, fields: dict[str, Any]) -> bool:
    return all(getattr(row, k) == v for k, v in fields.items())


def apply(
    u: Unit, body: dict[str, Any], sender: str, distribution_id: str, *, weekly_cap: int
) -> tuple[int, str]:
    """Apply one RS-SAS-RDV in the caller's savepoint; (appointment id, outcome:
    created, updated or replayed). Raises :class:`Rejected`; the caller rolls back."""
    from app.appointments.hub_sink import announce
    from app.interop.hubsante.messages import CONFLICT, WRONG_MESSAGE_SEQUENCE

    s = u.s
    a = read(body)
    row = s.scalar(
        select(Appointment)
        .where(
            Appointment.source == PLATFORM,
            Appointment.identifier_system == sender,
            Appointment.identifier == a.appointment_id,
        )
        .with_for_update()
    )
    fields = _fields(s, a)
    previous: str | None = None
    moved_from: datetime | None = None
    if row is None:
        row = Appointment(
            source=PLATFORM,
            sender=sender,
            identifier_system=sender,
            identifier=a.appointment_id,
            received_at=u.now,
            updated_at=u.now,
            version=1,
            **fields,
        )
        s.add(row)
        s.flush()
        outcome = "created"
    elif a.method == CREATE:
        why = f"L'identifiant du RDV à créer « {a.appointment_id} » existe déjà"
        raise Rejected(CONFLICT, why, Issue("duplicate", "message/appointment/appointmentId", why))
    elif _same(row, fields):
        outcome = "replayed"
        previous = row.status
    else:
        previous = row.status
        if previous in _FINAL and a.status != previous:
            why = f"le rendez-vous est déjà « {previous} » : il ne peut pas passer à « {a.status} »"
            raise Rejected(
                WRONG_MESSAGE_SEQUENCE,
                why,
                Issue("business-rule", "message/appointment/status", why),
            )
        moved_from = row.start if row.start != fields["start"] else None
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = u.now
        row.version += 1
        outcome = "updated"
    journal(
        s,
        sender=sender,
        identifier=a.appointment_id,
        answer=201 if outcome == "created" else 200,
        outcome=outcome,
        appointment_id=row.id,
        source=PLATFORM,
        detail=distribution_id,
    )
    if outcome != "replayed":
        announce(u, row, outcome, previous, weekly_cap=weekly_cap, moved_from=moved_from)
    return row.id, outcome


def is_appointment(envelope: Any) -> bool:
    from app.interop.hubsante.messages import content_key, message_of

    message = message_of(envelope) if isinstance(envelope, dict) else None
    return message is not None and content_key(message) == CONTENT


def identifier_of(envelope: Any) -> str:
    from app.interop.hubsante.messages import message_of

    message = message_of(envelope) if isinstance(envelope, dict) else None
    body = message.get(CONTENT) if message else None
    value = body.get("appointmentId") if isinstance(body, dict) else None
    return value[:255] if isinstance(value, str) else ""


def refused(
    u: Unit,
    sender: str,
    envelope: Any,
    code: tuple[int, str],
    issues: Sequence[Issue],
    distribution_id: str,
) -> None:
    """A refused RS-SAS-RDV in the appointments' journal (``answer`` = the RS-ERROR code
    sent back), told to the supervisors as the editors' refusals are."""
    from app.appointments.views import refusal_audience
    from app.hub.events import EventName

    identifier = identifier_of(envelope)
    journal(
        u.s,
        sender=sender,
        identifier=identifier,
        answer=code[0],
        outcome="refused",
        issues=issues,
        source=PLATFORM,
        detail=distribution_id,
    )
    u.emit(
        EventName.APPOINTMENT_REFUSED,
        refusal_audience(),
        sender=sender,
        identifier=identifier,
        answer=code[0],
        issues=[i.as_fhir() for i in issues],
    )


def issues_of(cause: str, code: tuple[int, str]) -> list[Issue]:
    """The Hub Santé's cause (``path : why; …``) as journal issues."""
    kind = {300: "invalid", 102: "structure", 500: "expired", 703: "forbidden"}.get(
        code[0], "exception"
    )
    out = []
    for part in cause.split("; "):
        where, sep, why = part.partition(" : ")
        out.append(Issue(kind, where if sep else "message", why if sep else part))
    return out
