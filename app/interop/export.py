"""A dossier exported in the national formats: its RS-EDA message (the Hub Santé's
``createCaseHealth`` in its EDXL-DE envelope, checked against the official schemas)
and its appointment as a FHIR ``Appointment`` of the SAS implementation guide
(profile FrAppointmentSAS). Used by ``sasdesk export dossier N`` and the desk's
Ctrl+E (intent ``dossier.export``); both record the read in the audit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Dossier, OsnpTask
from app.db.types import utcnow
from app.directory.models import Booking, Effecteur, Slot
from app.interop.hubsante import mapping, messages
from app.interop.hubsante.models import HsCase

FORMATS = ("rs-eda", "fhir-appointment")
DEFAULT_CLIENT_ID = "fr.health.sasdesk"
APPOINTMENT_PROFILE = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"
OPERATOR_EXTENSION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-appointment-operator"
V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
RPPS_OID = "urn:oid:1.2.250.1.71.4.2.1"
#: Without a published slot, an appointment is taken to last this long.
DEFAULT_LENGTH = timedelta(minutes=20)


class ExportError(ValueError):
    """Why this dossier cannot be exported in this format (in French)."""


def rs_eda(
    s: Session, d: Dossier, client_id: str, recipient: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """The dossier's RS-EDA message as the connector would send it now."""
    link = s.scalar(select(HsCase).where(HsCase.dossier_id == d.id))
    task = s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == d.id))
    if link is not None:
        case_id, owner, creation, peer = link.case_id, link.owner, link.creation, link.peer
    else:
        case_id, owner = f"{client_id}.{d.number}", client_id
        creation, peer = messages.iso(d.answered_at), recipient or client_id
    body = mapping.case_health(d, task, case_id=case_id, owner=owner, creation=creation)
    envelope = messages.build(client_id, recipient or peer, "Update" if link else "Report",
                              "createCaseHealth", body, now=now or utcnow())  # fmt: skip
    found = messages.problems(envelope)
    if found:
        raise ExportError("message RS-EDA non conforme aux schémas : " + "; ".join(found))
    return envelope


def appointment(s: Session, d: Dossier, client_id: str, operator: str) -> dict[str, Any]:
    """The dossier's appointment as a FHIR Appointment (FrAppointmentSAS)."""
    task = s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == d.id))
    booking = s.scalar(
        select(Booking)
        .where(Booking.dossier_id == d.id, Booking.released_at.is_(None))
        .order_by(Booking.id.desc())
    )
    start = booking.appointment_at if booking else task.appointment_at if task else None
    if start is None:
        raise ExportError(f"le dossier {d.number} n'a pas de rendez-vous")
    slot = s.get(Slot, booking.slot_id) if booking and booking.slot_id else None
    end = slot.end if slot is not None else start + DEFAULT_LENGTH
    doctor = s.get(Effecteur, booking.effecteur_id) if booking else None
    actor: dict[str, Any]
    if doctor is not None:
        actor = {
            "identifier": {
                "type": {"coding": [{"system": V2_0203, "code": "IDNPS"}]},
                "system": RPPS_OID,
                "value": f"8{doctor.rpps}",
            },
            "display": doctor.display_name,
        }
    else:
        actor = {"display": task.appointment_with if task else ""}
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": f"{d.number}-{booking.id if booking else 'rdv'}",
        "meta": {"profile": [APPOINTMENT_PROFILE]},
        "extension": [
            {
                "url": OPERATOR_EXTENSION,
                "valueReference": {
                    "identifier": {
                        "type": {"coding": [{"system": V2_0203, "code": "INTRN"}]},
                        "system": f"urn:sasdesk:{client_id}:utilisateur",
                        "value": operator,
                    }
                },
            }
        ],
        "identifier": [{"system": f"urn:sasdesk:{client_id}:rdv",
                        "value": f"{d.number}-{booking.id if booking else 'rdv'}"}],
        "status": "booked",
        "start": messages.iso(start),
        "end": messages.iso(end),
        "participant": [{"actor": actor, "status": "accepted"}],
    }  # fmt: skip
    if booking is not None and booking.created_at is not None:
        resource["created"] = messages.iso(booking.created_at)
    if task is not None and task.appointment_place:
        resource["comment"] = task.appointment_place
    return resource


def export(
    s: Session, d: Dossier, fmt: str, *, client_id: str, operator: str,
    now: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    if fmt == "rs-eda":
        return rs_eda(s, d, client_id, now=now)
    if fmt == "fhir-appointment":
        return appointment(s, d, client_id, operator)
    raise ExportError(f"format « {fmt} » inconnu : {', '.join(FORMATS)}")
