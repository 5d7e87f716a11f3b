"""A dossier as an RS-EDA ``createCaseHealth``, and a received one as dossier fields.

Outbound messages are built through ``hubsante-model`` (its pydantic models check
every field on the way) and then against the official schemas (messages.problems).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from hubsante_model.health.models.create_case_health import CreateCaseHealth

from app.db.models import Dossier, OsnpTask
from app.domain.enums import DossierStatus, Queue, Track
from app.interop.hubsante.messages import iso

_ORIENTATION = {  # our orientation → RS-EDA decision.orientationType
    "CONSULTATION_48H": "CABINET",
    "PDSA": "CABINET",
    "URGENCES": "URGENCES",
    "PHARMACIE": "AUTRE",
    "AUTRE": "AUTRE",
}
_LINE_ORIGIN = {"15": "15", "116117": "116117"}


def e164(number: str) -> str:
    digits = re.sub(r"[^\d+]", "", number or "")
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits


def national(number: str) -> str:
    digits = re.sub(r"[^\d+]", "", number or "")
    if digits.startswith("+33") and len(digits) == 12:
        return "0" + digits[3:]
    return digits


def _id(prefix: str, kind: str, local: str) -> str:
    """A patient or note id of the schemas: ``{case org}.{kind}.{local id}``."""
    parts = prefix.split(".")[:4]
    return ".".join([*parts, kind, re.sub(r"[^\w-]", "-", local)])


def case_health(
    d: Dossier,
    task: OsnpTask | None,
    *,
    case_id: str,
    owner: str,
    creation: str,
) -> dict[str, Any]:
    """The RS-EDA ``createCaseHealth`` of a dossier, as it stands."""
    body: dict[str, Any] = {
        "caseId": case_id,
        "senderCaseId": d.number,
        "creation": creation,
        "owner": owner,
        "qualification": {},
        "location": {},
    }
    track = d.track
    if track in (Track.SNP, Track.AMU):
        body["perimeter"] = str(track)
    body["qualification"]["details"] = _details(d)
    if d.line in _LINE_ORIGIN:
        body["qualification"]["origin"] = _LINE_ORIGIN[d.line]
    if d.commune_insee or d.commune_name:
        body["location"]["city"] = {
            k: v for k, v in (("name", d.commune_name), ("inseeCode", d.commune_insee)) if v
        }
    if d.address:
        body["location"]["detailedAddress"] = {"complete": d.address}
    if d.caller_number:
        body["initialAlert"] = _initial_alert(d)
    patient_id = _id(case_id, "patient", d.number)
    patient = _patient(d, patient_id)
    if len(patient) > 1:
        body["patient"] = [patient]
    notes = []
    if d.notes:
        notes.append(("ARM", d.notes, d.answered_at, "notes"))
    if d.decision_comment and d.decided_at:
        notes.append(("MEDECIN", d.decision_comment, d.decided_at, "decision"))
    custom: list[dict[str, Any]] = []
    if task is not None and task.appointment_at is not None:
        text = f"RDV obtenu par le SAS : {task.appointment_with} le {iso(task.appointment_at)}"
        if task.appointment_place:
            text += f", {task.appointment_place}"
        notes.append(("AUTRE", text, task.closed_at or task.appointment_at, f"rdv-{task.id}"))
        custom = [
            {
                "key": "sas.rdv.debut",
                "label": "Début du RDV SAS",
                "value": iso(task.appointment_at),
            },
            {"key": "sas.rdv.avec", "label": "RDV SAS avec", "value": task.appointment_with},
        ]
        if task.appointment_place:
            custom.append({"key": "sas.rdv.lieu", "label": "Lieu du RDV SAS",
                           "value": task.appointment_place})  # fmt: skip
    if notes:
        body["medicalNote"] = [
            {
                "medicalNoteId": _id(case_id, "medicalNote", f"{d.number}-{key}"),
                "patientId": patient_id,
                "operator": {"role": role},
                "creation": iso(at),
                "freetext": text,
            }
            for role, text, at, key in notes
        ]
    if d.decision and d.decided_at:
        body["decision"] = [_decision(d, patient_id)]
    if custom:
        body["additionalInformation"] = {"customMap": custom}
    model = CreateCaseHealth.from_dict(body)  # hubsante-model checks every field
    assert model is not None
    return model.to_dict()


def _details(d: Dossier) -> dict[str, Any]:
    """The qualification's details: open or closed, priority, care level, attribution."""
    details: dict[str, Any] = {
        "status": "CLOTURE" if d.status == DossierStatus.CLOSED else "ACTIF",
    }
    if d.priority:
        details["priority"] = d.priority
    if d.care_level:
        details["careLevel"] = d.care_level
    if d.track == Track.SNP:
        details["attribution"] = "DRM.MRL"
    elif d.track == Track.AMU:
        details["attribution"] = "DRM.MRU"
    return details


def _initial_alert(d: Dossier) -> dict[str, Any]:
    """The call: when it came, the caller's number and the one to call back, the motif."""
    alert: dict[str, Any] = {
        "reception": iso(d.ringing_at or d.answered_at),
        "caller": {
            "callerContact": {"channel": "PERSONNE", "type": "TEL",
                              "detail": e164(d.caller_number)},
        },
    }  # fmt: skip
    if d.callback_number:
        alert["caller"]["callbackContact"] = {
            "channel": "PERSONNE",
            "type": "TEL",
            "detail": e164(d.callback_number),
        }
    if d.motif:
        alert["notes"] = [{"creation": iso(d.answered_at), "freetext": d.motif}]
    return alert


def _patient(d: Dossier, patient_id: str) -> dict[str, Any]:
    """The patient: names as typed, sex and birth date (strict), age."""
    patient: dict[str, Any] = {"patientId": patient_id}
    if d.patient_last_name or d.patient_first_name:
        name = f"{d.patient_first_name} {d.patient_last_name}".strip()
        patient["identity"] = {
            "nonStrictFeatures": {
                "complete": name,
                **({"lastName": d.patient_last_name} if d.patient_last_name else {}),
                **({"firstName": d.patient_first_name} if d.patient_first_name else {}),
            }
        }
    strict: dict[str, Any] = {}
    if d.patient_sex in ("M", "F"):
        strict["sex"] = d.patient_sex
    if d.patient_birth_date:
        strict["birthDate"] = d.patient_birth_date.isoformat()
    if strict:
        patient.setdefault("identity", {})["strictFeatures"] = strict
    if d.patient_age is not None:
        patient["detail"] = {"age": f"P{d.patient_age}Y"}
    return patient


def _decision(d: Dossier, patient_id: str) -> dict[str, Any]:
    """The regulating doctor's decision: who (as proven at login), what, where to."""
    assert d.decided_at is not None
    operator: dict[str, str] = {"role": "MEDECIN"}
    if d.decided_national_id:
        # RS-EDA's operator.label: "le nom et prénom de l'opérateur, ou un identifiant";
        # the deciding doctor's national identifier (8 + RPPS) as proven at login.
        operator["label"] = d.decided_national_id
    decision: dict[str, Any] = {
        "creation": iso(d.decided_at),
        "operator": operator,
        "decisionType": d.decision,
        "patientId": patient_id,
    }
    if d.orientation and d.orientation in _ORIENTATION:
        decision["orientationType"] = _ORIENTATION[d.orientation]
    if d.track == Track.SNP and d.decision == "ORIENT":
        decision["resourceType"] = "LIBERAL.MG"
    return decision


def _age(value: str) -> int | None:
    m = re.fullmatch(r"P(\d{1,3})([YMWD])", value or "")
    if not m:
        return None
    return int(m.group(1)) if m.group(2) == "Y" else 0


def dossier_fields(case: dict[str, Any]) -> dict[str, Any]:
    """What a received ``createCaseHealth`` says about the dossier (absent: not set)."""
    out: dict[str, Any] = {}
    alert = case.get("initialAlert") or {}
    caller = alert.get("caller") or {}
    if (caller.get("callerContact") or {}).get("type") == "TEL":
        out["caller_number"] = national(caller["callerContact"].get("detail", ""))
    if (caller.get("callbackContact") or {}).get("type") == "TEL":
        out["callback_number"] = national(caller["callbackContact"].get("detail", ""))
    elif "caller_number" in out:
        out["callback_number"] = out["caller_number"]
    patients = case.get("patient") or []
    if patients:
        p = patients[0]
        identity = p.get("identity") or {}
        names = identity.get("nonStrictFeatures") or {}
        if names.get("lastName"):
            out["patient_last_name"] = names["lastName"].strip()
        if names.get("firstName"):
            out["patient_first_name"] = names["firstName"].strip()
        strict = identity.get("strictFeatures") or {}
        if strict.get("sex") in ("M", "F"):
            out["patient_sex"] = strict["sex"]
        if strict.get("birthDate"):
            out["patient_birth_date"] = date.fromisoformat(strict["birthDate"])
        age = _age((p.get("detail") or {}).get("age", ""))
        if age is not None:
            out["patient_age"] = age
    location = case.get("location") or {}
    city = location.get("city") or {}
    if city.get("inseeCode"):
        out["commune_insee"] = city["inseeCode"]
    if city.get("name"):
        out["commune_name"] = city["name"]
    address = [(location.get("detailedAddress") or {}).get("complete", ""),
               location.get("name", ""), location.get("freetext", "")]  # fmt: skip
    if any(a.strip() for a in address):
        out["address"] = ", ".join(a.strip() for a in address if a.strip())
    qualification = case.get("qualification") or {}
    motive = [(qualification.get("healthMotive") or {}).get("label", "")]
    motive += [n.get("freetext", "") for n in alert.get("notes") or []]
    if any(m.strip() for m in motive):
        out["motif"] = " — ".join(m.strip() for m in motive if m.strip())
    notes = [n.get("freetext", "") for n in case.get("medicalNote") or []]
    if any(n.strip() for n in notes):
        out["notes"] = "\n".join(n.strip() for n in notes if n.strip())
    priority = (qualification.get("details") or {}).get("priority")
    if priority in ("P0", "P1", "P2", "P3"):
        out["priority"] = priority
    return out


def queue_of(case: dict[str, Any]) -> Queue:
    """The queue a received case waits in: an SNP case goes to the MRL."""
    details = (case.get("qualification") or {}).get("details") or {}
    if case.get("perimeter") == "SNP" or str(details.get("attribution", "")).startswith("DRM.MRL"):
        return Queue.SNP
    return Queue.AMU_MEDECIN


def reception(case: dict[str, Any]) -> datetime | None:
    value = (case.get("initialAlert") or {}).get("reception") or case.get("creation")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
