"""An agenda editor's appointment feedback (the SAS guide's INT_R03), read and checked.

The editor POSTs an ``Appointment`` (profile FrAppointmentSAS) when the regulator's
booking is made in the doctor's agenda, then PUTs it again, by its identifier, as its
fate becomes known: fulfilled, no-show, cancelled. This module turns the body into a
typed :class:`FhirAppointment` or refuses it with the answer the guide gives: 400 for
what is not an Appointment at all, 422 for one that breaks the profile or our rules,
each time with an ``OperationOutcome`` naming the element (as a FHIRPath expression).

Written from ``ansforge/IG-fhir-service-acces-aux-soins`` at commit d765be27c411
(``input/pagecontent/specifications_techniques-tous-gestion_rdv.md`` and
``input/fsh/profiles/FrAppointmentSAS.fsh``); docs/appointments.md says more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

#: The guide names the profile by both URLs (the profile's own ``^url`` and the one its
#: validator section shows); an editor may send either.
PROFILES = frozenset(
    {
        "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS",
        "http://interopsante.org/fhir/StructureDefinition/FrAppointmentSAS",
    }
)
OPERATOR_EXTENSION = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
#: Identifier types (HL7 v2 table 0203, French extension) and assigning authorities.
V2_0203 = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
NATIONAL_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # IDNPS: RPPS with "8", ADELI with "0"
SAS_TECHNICAL_SYSTEM = "urn:oid:1.2.250.1.213.3.6"  # a regulator without a national id
#: The participant statuses the guide allows (sas-valueset-participant-status): the
#: platform only takes appointments the doctor accepted, automatically and tacitly.
PARTICIPANT_STATUSES = frozenset({"accepted"})
#: A feedback is a few kilobytes; anything far larger is refused before it is parsed.
MAX_BODY_BYTES = 256 * 1024


class AppointmentStatus(StrEnum):
    """The AppointmentStatus values the SAS platform uses (the guide's nomenclature)."""

    BOOKED = "booked"
    FULFILLED = "fulfilled"
    NOSHOW = "noshow"
    CANCELLED = "cancelled"


#: A fate, once known, is final: an editor cannot take a "came" back to "booked".
FINAL = frozenset(
    {AppointmentStatus.FULFILLED, AppointmentStatus.NOSHOW, AppointmentStatus.CANCELLED}
)


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue: what is wrong, and where (a FHIRPath expression)."""

    code: str  # FHIR issue-type: structure, required, value, invariant, business-rule, too-long
    expression: str
    diagnostics: str

    def as_fhir(self) -> dict[str, Any]:
        return {
            "severity": "error",
            "code": self.code,
            "diagnostics": self.diagnostics,
            "expression": [self.expression],
        }


class Refused(Exception):
    """The appointment is refused; ``status`` is the HTTP answer, ``outcome()`` its body."""

    def __init__(self, status: int, issues: list[Issue]):
        super().__init__("; ".join(f"{i.expression}: {i.diagnostics}" for i in issues))
        self.status = status
        self.issues = issues

    def outcome(self) -> dict[str, Any]:
        return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in self.issues]}


@dataclass(frozen=True)
class Regulator:
    """Who took the appointment for the patient, as the platform identifies them."""

    value: str
    #: True for a national identifier (IDNPS), False for the platform's technical id.
    national: bool


@dataclass(frozen=True)
class FhirAppointment:
    identifier_system: str
    identifier: str
    status: AppointmentStatus
    start: datetime
    end: datetime
    regulator: Regulator
    #: The effecteur's national identifier as sent ("8" + RPPS, or "0" + ADELI).
    effecteur_national_id: str
    created: datetime | None = None
    profiles: tuple[str, ...] = field(default=())

    @property
    def rpps(self) -> str | None:
        """The effecteur's RPPS (the national id without its "8"), None for an ADELI."""
        if self.effecteur_national_id.startswith("8"):
            return self.effecteur_national_id[1:]
        return None


def refuse_transition(old: AppointmentStatus, new: AppointmentStatus) -> Issue | None:
    """Why an update from ``old`` to ``new`` is refused, or None when it may apply.

    The same status again is a replay (accepted, changes nothing); a fate already known
    is final, so "fulfilled" cannot become "booked" or "noshow" afterwards.
    """
    if old == new or old not in FINAL:
        return None
    return Issue(
        "business-rule",
        "Appointment.status",
        f"le rendez-vous est déjà « {old.value} » : il ne peut pas passer à « {new.value} »",
    )


def parse(body: bytes) -> FhirAppointment:
    """Read an editor's FrAppointmentSAS body; raise :class:`Refused` with every issue."""
    if len(body) > MAX_BODY_BYTES:
        raise Refused(
            413,
            [
                Issue(
                    "too-long",
                    "Appointment",
                    f"corps de {len(body)} octets (au plus {MAX_BODY_BYTES})",
                )
            ],
        )
    try:
        resource = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(400, [Issue("structure", "Appointment", f"JSON illisible : {exc}")]) from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        found = (
            resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
        )
        raise Refused(
            400,
            [
                Issue(
                    "structure",
                    "resourceType",
                    f"une ressource Appointment est attendue, pas {found!r}",
                )
            ],
        )
    return _Reader(resource).read()


class _Reader:
    """Walks one resource and collects every issue, so the editor sees them all at once."""

    def __init__(self, resource: dict[str, Any]):
        self.r = resource
        self.issues: list[Issue] = []

    def fail(self, code: str, where: str, why: str) -> None:
        self.issues.append(Issue(code, where, why))

    def read(self) -> FhirAppointment:
        profiles = self.profiles()
        identifier = self.identifier()
        status = self.status()
        start = self.instant("start", required=True)
        end = self.instant("end", required=True)
        created = self.instant("created", required=False)
        if start and end and end <= start:
            self.fail("invariant", "Appointment.end", "la fin doit être après le début")
        regulator = self.regulator()
        effecteur = self.effecteur()
        if self.issues:
            raise Refused(422, self.issues)
        assert identifier and status and start and end and regulator and effecteur
        return FhirAppointment(
            identifier_system=identifier[0],
            identifier=identifier[1],
            status=status,
            start=start,
            end=end,
            created=created,
            regulator=regulator,
            effecteur_national_id=effecteur,
            profiles=profiles,
        )

    def profiles(self) -> tuple[str, ...]:
        meta = self.r.get("meta")
        listed = meta.get("profile") if isinstance(meta, dict) else None
        if not isinstance(listed, list) or not any(
            isinstance(p, str) and p in PROFILES for p in listed
        ):
            self.fail(
                "structure",
                "Appointment.meta.profile",
                "le profil FrAppointmentSAS est attendu (" + " ou ".join(sorted(PROFILES)) + ")",
            )
            return ()
        return tuple(str(p) for p in listed)

    def identifier(self) -> tuple[str, str] | None:
        ids = self.r.get("identifier")
        if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], dict):
            self.fail("required", "Appointment.identifier", "un et un seul identifiant est attendu")
            return None
        system, value = ids[0].get("system"), ids[0].get("value")
        if not _text(system):
            self.fail("required", "Appointment.identifier.system", "autorité d'affectation absente")
        if not _text(value):
            self.fail(
                "required", "Appointment.identifier.value", "identifiant du rendez-vous absent"
            )
        if not (_text(system) and _text(value)):
            return None
        return str(system), str(value)

    def status(self) -> AppointmentStatus | None:
        raw = self.r.get("status")
        allowed = [s.value for s in AppointmentStatus]
        if isinstance(raw, str) and raw in allowed:
            return AppointmentStatus(raw)
        self.fail("value", "Appointment.status", f"statut {raw!r} : attendu {', '.join(allowed)}")
        return None

    def instant(self, name: str, *, required: bool) -> datetime | None:
        raw = self.r.get(name)
        if raw is None:
            if required:
                self.fail("required", f"Appointment.{name}", "élément obligatoire absent")
            return None
        when = _instant(raw)
        if when is None:
            self.fail(
                "value", f"Appointment.{name}", f"instant FHIR avec fuseau attendu, pas {raw!r}"
            )
        return when

    def regulator(self) -> Regulator | None:
        where = "Appointment.extension('" + OPERATOR_EXTENSION + "')"
        found = [
            e
            for e in _list(self.r.get("extension"))
            if isinstance(e, dict) and e.get("url") == OPERATOR_EXTENSION
        ]
        if len(found) != 1:
            self.fail(
                "required",
                where,
                "le régulateur (extension appointmentOperator) est attendu une fois",
            )
            return None
        ref = found[0].get("valueReference")
        ident = ref.get("identifier") if isinstance(ref, dict) else None
        if not isinstance(ident, dict):
            self.fail(
                "required", where + ".valueReference.identifier", "identifiant du régulateur absent"
            )
            return None
        code = _type_code(ident)
        system, value = ident.get("system"), ident.get("value")
        if not _text(value):
            self.fail(
                "required",
                where + ".valueReference.identifier.value",
                "identifiant du régulateur absent",
            )
            return None
        if code == "IDNPS" and system == NATIONAL_SYSTEM:
            return Regulator(str(value), national=True)
        if code == "INTRN" and system == SAS_TECHNICAL_SYSTEM:
            return Regulator(str(value), national=False)
        self.fail(
            "value",
            where + ".valueReference.identifier",
            f"type {code!r} et autorité {system!r} : attendu IDNPS avec {NATIONAL_SYSTEM} "
            f"ou INTRN avec {SAS_TECHNICAL_SYSTEM}",
        )
        return None

    def effecteur(self) -> str | None:
        participants = [p for p in _list(self.r.get("participant")) if isinstance(p, dict)]
        actors = [p for p in participants if isinstance(p.get("actor"), dict)]
        if len(actors) != 1:
            self.fail(
                "required", "Appointment.participant", "un professionnel effecteur est attendu"
            )
            return None
        participant = actors[0]
        ident = participant["actor"].get("identifier")
        where = "Appointment.participant.actor.identifier"
        if not isinstance(ident, dict):
            self.fail("required", where, "identifiant national de l'effecteur absent")
            return None
        value = ident.get("value")
        if _type_code(ident) != "IDNPS":
            self.fail("value", where + ".type", "type IDNPS attendu")
        if ident.get("system") != NATIONAL_SYSTEM:
            self.fail("value", where + ".system", f"autorité {NATIONAL_SYSTEM} attendue")
        if not _national_id(value):
            self.fail(
                "value",
                where + ".value",
                f"{value!r} : RPPS préfixé de « 8 » (12 chiffres) ou ADELI préfixé de « 0 »",
            )
        status = participant.get("status")
        if not (isinstance(status, str) and status in PARTICIPANT_STATUSES):
            self.fail(
                "value",
                "Appointment.participant.status",
                f"statut {status!r} : « accepted » attendu",
            )
        return str(value) if _national_id(value) else None


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type_code(identifier: dict[str, Any]) -> str | None:
    type_ = identifier.get("type")
    codings = type_.get("coding") if isinstance(type_, dict) else None
    if not isinstance(codings, list) or len(codings) != 1 or not isinstance(codings[0], dict):
        return None
    if codings[0].get("system") != V2_0203:
        return None
    code = codings[0].get("code")
    return code if isinstance(code, str) else None


def _national_id(value: Any) -> bool:
    """ "8" + an 11-digit RPPS, or "0" + a 9-character ADELI (the guide's two forms)."""
    if not isinstance(value, str):
        return False
    if value.startswith("8"):
        return len(value) == 12 and value.isdigit()
    if value.startswith("0"):
        return len(value) == 10 and value[1:].isalnum()
    return False


def _instant(raw: Any) -> datetime | None:
    """A FHIR dateTime with a time and a zone (``Z`` or an offset); None otherwise."""
    if not isinstance(raw, str) or "T" not in raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def identifier_of_query(params: dict[str, str]) -> tuple[str | None, str]:
    """The conditional update's target from ``?identifier=[system|]value``.

    FHIR's search parameter is ``identifier``; the guide's text writes ``Identifier``:
    both are read. Raises :class:`Refused` (400) when neither or both are given.
    """
    given = [params[k] for k in ("identifier", "Identifier") if k in params]
    if len(given) != 1 or not given[0].strip():
        raise Refused(
            400,
            [
                Issue(
                    "required",
                    "identifier",
                    "le paramètre ?identifier=[système|]valeur est attendu une fois",
                )
            ],
        )
    system, bar, value = given[0].partition("|")
    return (system or None, value) if bar else (None, system)
