"""FHIR R4 Bundles of the ANS SAS implementation guide (slot aggregation) → slots.

Shared by ``sasdesk import slots FILE.json`` and the FHIR slot client that pulls the
same Bundles from agenda editors (``app.interop.fhir_client``). The mapping is in
docs/directory.md: Slot → Schedule → Practitioner(Role) gives the doctor;
``meta.security`` the visibility; ``serviceType`` the consultation type and, through
the R5 ``serviceType`` reference extension, HealthcareService → Organization the CPTS.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.directory.imports.common import ImportAborted, ImportReport, decode, parse_datetime
from app.directory.imports.ror import national_ids
from app.directory.imports.slot_writer import NewSlot, SlotWriter
from app.directory.query import fold
from app.directory.vocab import SERVICE_TYPE_OF_FHIR
from app.domain.enums import ConsultationType

RPPS_OID = "urn:oid:1.2.250.1.71.4.2.1"
TYPE_CRENEAU = "TRE-R314-TypeCreneau"
ACT_CODE = "v3-ActCode"
#: The R5 backport that lets a Slot.serviceType point at a HealthcareService (CPTS).
SERVICE_TYPE_REFERENCE = "extension-Slot.serviceType"
#: When a slot carries several visibility codes, the most restrictive one is kept.
_VIS_ORDER = ["PUBLIC", "PRO", "SNP", "CPTS"]

Index = dict[str, dict[str, Any]]


def parse_bundle(raw: bytes, report: ImportReport) -> dict[str, Any]:
    """A Bundle from bytes, or ImportAborted saying why it is not one."""
    try:
        bundle = json.loads(decode(raw, report))
    except json.JSONDecodeError as exc:
        raise ImportAborted(f"JSON invalide : {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ImportAborted("ce n'est pas un Bundle FHIR (resourceType ≠ Bundle)")
    return bundle


def _ref_keys(entry: dict[str, Any]) -> list[str]:
    res = entry.get("resource") or {}
    keys = []
    if res.get("resourceType") and res.get("id"):
        keys.append(f"{res['resourceType']}/{res['id']}")
    if entry.get("fullUrl"):
        keys.append(entry["fullUrl"])
    return keys


def _resolve(ref: str, index: Index) -> dict[str, Any] | None:
    if ref in index:
        return index[ref]
    parts = ref.rstrip("/").split("/")
    return index.get("/".join(parts[-2:])) if len(parts) >= 2 else None


def _rpps_of(practitioner: dict[str, Any]) -> str | None:
    for ident in practitioner.get("identifier") or []:
        value = str(ident.get("value") or "")
        codes = [c.get("code") for c in (ident.get("type") or {}).get("coding") or []]
        if ident.get("system") == RPPS_OID or "IDNPS" in codes or "RPPS" in codes:
            if len(value) == 12 and value.startswith("8"):
                return value[1:]  # idNatPs = "8" + RPPS
            if re.fullmatch(r"\d{11}", value):
                return value
    return None


def write_bundles(
    s: Session,
    r: ImportReport,
    bundles: list[dict[str, Any]],
    *,
    ref_prefix: str = "",
) -> SlotWriter:
    """Write the free slots of one search answer (one Bundle, or the pages of one).

    References are resolved across every page. ``ref_prefix`` keeps two editors'
    slot ids apart. Returns the writer (its ``refs_in_file`` are the slots seen).
    """
    entries = [e for b in bundles for e in (b.get("entry") or []) if isinstance(e, dict)]
    index: Index = {}
    for entry in entries:
        for key in _ref_keys(entry):
            index[key] = entry["resource"]
    w = SlotWriter(s, "fhir", r)
    slots = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "Slot"]
    r.start(len(slots))
    for entry in slots:
        r.step()
        res = entry["resource"]
        where = f"Slot/{res.get('id', '?')}"
        x = _new_slot(res, entry, index, w, r, where)
        if x is not None:
            if x.ref is not None:
                x.ref = f"{ref_prefix}{x.ref}"
            w.add(where, x)
    w.flush()
    return w


def _new_slot(
    res: dict[str, Any],
    entry: dict[str, Any],
    index: Index,
    w: SlotWriter,
    r: ImportReport,
    where: str,
) -> NewSlot | None:
    rpps, why = _slot_rpps(res, index)
    if rpps is None:
        r.reject(where, why)
        return None
    if res.get("status", "free") != "free":
        r.reject(
            where,
            f"statut « {res.get('status')} » : seuls les créneaux libres (free) sont importés",
        )
        return None
    codes = [
        c.get("code")
        for st in res.get("serviceType") or []
        for c in (st.get("coding") or [])
        if ACT_CODE in str(c.get("system", ""))
    ]
    types = [SERVICE_TYPE_OF_FHIR[c] for c in codes if c in SERVICE_TYPE_OF_FHIR]
    if len(set(types)) > 1:
        r.warnings.append(
            (where, f"plusieurs types ({', '.join(codes)}) : importé comme {types[0].label}")
        )
    security = [
        c.get("code")
        for c in (res.get("meta") or {}).get("security") or []
        if TYPE_CRENEAU in str(c.get("system", ""))
    ]
    vis = max((c for c in security if c in _VIS_ORDER), key=_VIS_ORDER.index, default="SNP")
    cpts, problems = _cpts_of(res, index, w.structures, w.structures_by_id)
    if vis == "CPTS" and not cpts:
        r.reject(
            where,
            "créneau réservé à une CPTS dont la CPTS est introuvable : "
            + ("; ".join(problems) or "aucun HealthcareService (serviceType) ne la désigne"),
        )
        return None
    for problem in problems:
        r.warnings.append((where, f"CPTS non rattachée : {problem}"))
    if len(cpts) > 1:
        r.warnings.append((where, f"{len(cpts)} CPTS désignées : rattaché à la première seulement"))
    try:
        start, end = parse_datetime(res["start"]), parse_datetime(res["end"])
    except (KeyError, ValueError) as exc:
        r.reject(where, f"début/fin manquant ou illisible ({exc})")
        return None
    return NewSlot(
        rpps,
        start,
        end,
        str(types[0] if types else ConsultationType.CABINET),
        1,
        vis,
        res.get("id") or entry.get("fullUrl"),
        str(res.get("comment") or ""),
        cpts[0] if cpts else None,
    )


def _cpts_of(
    slot: dict[str, Any], index: Index, structures: dict[str, int], by_national_id: dict[str, int]
) -> tuple[list[int], list[str]]:
    """The directory's structures named by the slot (serviceType → HealthcareService →
    providedBy Organization, matched by its national identifier — FINESS or ROR id, as
    the ROR import stored it — else by name), and what could not be resolved."""
    found: list[int] = []
    problems: list[str] = []
    for st in slot.get("serviceType") or []:
        for ext in st.get("extension") or []:
            ref = str((ext.get("valueReference") or {}).get("reference") or "")
            if SERVICE_TYPE_REFERENCE not in str(ext.get("url", "")) or not ref:
                continue
            service = _resolve(ref, index)
            if service is None or service.get("resourceType") != "HealthcareService":
                problems.append(f"{ref} absent du Bundle")
                continue
            org_ref = str((service.get("providedBy") or {}).get("reference") or "")
            org = _resolve(org_ref, index) if org_ref else None
            if org is None:
                problems.append(
                    f"{ref} : organisation {org_ref or '(providedBy vide)'} absente du Bundle"
                )
                continue
            name = str(org.get("name") or "")
            sid = next((by_national_id[i] for i in national_ids(org) if i in by_national_id), None)
            sid = sid if sid is not None else structures.get(fold(name))
            if sid is None:
                ids = ", ".join(str(i.get("value")) for i in org.get("identifier") or [])
                problems.append(
                    f"« {name or org_ref} »{f' ({ids})' if ids else ''} inconnue de l'annuaire"
                )
            elif sid not in found:
                found.append(sid)
    return found, problems


def _slot_rpps(slot: dict[str, Any], index: Index) -> tuple[str | None, str]:
    ref = (slot.get("schedule") or {}).get("reference")
    if not ref:
        return None, "pas de référence schedule"
    schedule = _resolve(ref, index)
    if schedule is None:
        return None, f"référence manquante : {ref} absent du Bundle"
    missing = []
    for actor in schedule.get("actor") or []:
        aref = actor.get("reference", "")
        target = _resolve(aref, index)
        if target is None:
            missing.append(aref)
            continue
        if target.get("resourceType") == "PractitionerRole":
            pref = (target.get("practitioner") or {}).get("reference", "")
            target = _resolve(pref, index)
            if target is None:
                missing.append(pref)
                continue
        if target.get("resourceType") == "Practitioner":
            rpps = _rpps_of(target)
            if rpps:
                return rpps, ""
            return None, f"{aref} sans identifiant RPPS (idNatPs)"
    if missing:
        return None, "référence manquante : " + ", ".join(missing) + " absent(s) du Bundle"
    return None, f"{ref} ne désigne aucun praticien"


def fhir_file_work(path: Path) -> Any:
    def work(s: Session, r: ImportReport) -> None:
        write_bundles(s, r, [parse_bundle(path.read_bytes(), r)])

    return work
