"""The ROR's CPTS and their intervention zones → directory structures.

``sasdesk import ror FILE`` (a FHIR Bundle in JSON, or the ``$export`` NDJSON: one
resource a line) and the ROR client (``app.interop.fhir_client``) go through
``write_resources``. Read from the ROR's FHIR guide (ansforge/ROR-fhir-documentation,
docs/directory.md cites the commit): a ``HealthcareService`` whose ``providedBy``
Organization is a CPTS gives that CPTS its zone (the ``ror-territorial-division``
extensions' ``codeTerritorialDivision``, INSEE commune codes) and its SNP phone
(the offer's ``telecom`` or its ``ror-healthcareservice-contact``, else the
Organization's). The CPTS is known by its national identifier (FINESS, else the
ROR's own). A resource without zone, with a code that is no commune, or whose CPTS
has no identifier, is rejected as a whole; a re-import replaces the zone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.common import ImportAborted, ImportReport, decode, run_import
from app.directory.models import Structure, bump_revision
from app.directory.query import fold
from app.directory.vocab import StructureKind
from app.geo import CommuneIndex, default_index

TERRITORIAL_DIVISION = "StructureDefinition/ror-territorial-division"
SERVICE_CONTACT = "ror-healthcareservice-contact"
#: idNatStruct (annuaire santé): "1" + FINESS for a FINESS structure.
ID_NAT_STRUCT = "urn:oid:1.2.250.1.71.4.2.2"
_FINESS = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,20}$")
_CPTS_WORDS = ("cpts", "communaute professionnelle territoriale")


def read_resources(raw: bytes, report: ImportReport) -> list[dict[str, Any]]:
    """The resources of a Bundle (JSON) or of an NDJSON export; a line that is no JSON
    object is rejected in the report, a file that is neither aborts."""
    text = decode(raw, report)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        if whole.get("resourceType") == "Bundle":
            return [
                e["resource"]
                for e in whole.get("entry") or []
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            ]
        if whole.get("resourceType"):
            return [whole]
    if whole is not None:
        raise ImportAborted("ni Bundle FHIR ni export NDJSON (une ressource par ligne)")
    resources: list[dict[str, Any]] = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for number, line in lines:
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            report.reject(f"ligne {number}", f"JSON invalide : {exc.msg}")
            continue
        if not isinstance(item, dict) or not item.get("resourceType"):
            report.reject(f"ligne {number}", "pas une ressource FHIR (resourceType absent)")
            continue
        resources.append(item)
    if not resources:
        raise ImportAborted("aucune ressource FHIR lisible (ni Bundle, ni NDJSON)")
    return resources


def national_ids(org: dict[str, Any]) -> list[str]:
    """The Organization's identifiers, FINESS first (from idNatStruct too)."""
    finess: list[str] = []
    other: list[str] = []
    for ident in org.get("identifier") or []:
        value = str(ident.get("value") or "").strip()
        system = str(ident.get("system") or "").lower()
        if not value:
            continue
        if system == ID_NAT_STRUCT and value.startswith("1") and _FINESS.match(value[1:]):
            finess.append(value[1:])
        elif "finess" in system and _FINESS.match(value):
            finess.append(value)
        else:
            other.append(value)
    return list(dict.fromkeys(finess + other))


def _texts(concepts: Any) -> list[str]:
    out = []
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        if not isinstance(concept, dict):
            continue
        codings = concept.get("coding") or [concept]
        for c in codings if isinstance(codings, list) else [codings]:
            if isinstance(c, dict):
                out += [str(c.get("display") or ""), str(c.get("code") or "")]
        out.append(str(concept.get("text") or ""))
    return out


def is_cpts(org: dict[str, Any], service: dict[str, Any]) -> bool:
    """The Organization's category is CPTS (TRE_R66 code 604), or its name or type or
    the offer's category says so."""
    for concept in org.get("type") or []:
        for c in concept.get("coding") or [] if isinstance(concept, dict) else []:
            if isinstance(c, dict) and "R66" in str(c.get("system")) and c.get("code") == "604":
                return True
    words = fold(" ".join([str(org.get("name") or ""), *_texts(org.get("type"))]))
    words += " " + fold(" ".join(_texts(service.get("category"))))
    return any(w in words for w in _CPTS_WORDS)


def _code(ext: dict[str, Any]) -> str:
    concept = ext.get("valueCodeableConcept") or {}
    codings = concept.get("coding") or [concept]
    coding = codings[0] if isinstance(codings, list) and codings else codings
    return str((coding or {}).get("code") or "").strip() if isinstance(coding, dict) else ""


def zone_of(service: dict[str, Any], geo: CommuneIndex) -> tuple[list[str], list[str]]:
    """(INSEE codes of the zone, codes that are no commune)."""
    communes: list[str] = []
    bad: list[str] = []
    for ext in service.get("extension") or []:
        if not str(ext.get("url", "")).endswith(TERRITORIAL_DIVISION):
            continue
        for part in ext.get("extension") or []:
            if part.get("url") != "codeTerritorialDivision":
                continue
            code = _code(part).upper()
            if code and geo.by_insee(code) is not None:
                communes.append(code)
            else:
                bad.append(code or "(vide)")
    return sorted(set(communes)), bad


def _clean_phone(value: str) -> str:
    return re.sub(r"[^0-9+]", "", value) if _PHONE.match(value.strip()) else ""


def phone_of(service: dict[str, Any], org: dict[str, Any]) -> str:
    """The offer's phone (the CPTS' SNP unit), else its contact's, else the CPTS's."""
    candidates = [
        str(t.get("value") or "")
        for t in service.get("telecom") or []
        if t.get("system") in ("phone", None)
    ]
    for ext in service.get("extension") or []:
        if str(ext.get("url", "")).endswith(SERVICE_CONTACT):
            for inner in ext.get("extension") or []:
                for leaf in inner.get("extension") or []:
                    if leaf.get("url") == "telecomAddress":
                        candidates.append(str(leaf.get("valueString") or ""))
    candidates += [
        str(t.get("value") or "") for t in org.get("telecom") or [] if t.get("system") == "phone"
    ]
    return next((p for p in map(_clean_phone, candidates) if p), "")


@dataclass
class _Cpts:
    national_id: str
    name: str
    phone: str = ""
    communes: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)


def _resolve(ref: str, by_ref: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    parts = ref.rstrip("/").split("/")
    return by_ref.get(ref) or (by_ref.get("/".join(parts[-2:])) if len(parts) >= 2 else None)


class _NotCpts(Exception):
    """An offer of an organization that is no CPTS: skipped, said in the report."""


def _read_offer(
    res: dict[str, Any], by_ref: dict[str, dict[str, Any]], geo: CommuneIndex, used: set[str]
) -> tuple[str, str, list[str], str] | str:
    """(national id, name, zone, phone) of the offer's CPTS, or why it is rejected."""
    org_ref = str((res.get("providedBy") or {}).get("reference") or "")
    org = _resolve(org_ref, by_ref) if org_ref else None
    if org is None:
        return f"organisation {org_ref or '(providedBy vide)'} absente du fichier"
    used.add(f"Organization/{org.get('id')}")
    if not is_cpts(org, res):
        raise _NotCpts(f"« {org.get('name', '')} » n'est pas une CPTS")
    ids = national_ids(org)
    if not ids:
        return f"CPTS « {org.get('name', '')} » sans identifiant national"
    communes, bad = zone_of(res, geo)
    if bad:
        return "zone d'intervention : " + ", ".join(bad) + " n'est pas une commune"
    if not communes:
        return "aucune zone d'intervention (extension ror-territorial-division)"
    return ids[0], str(org.get("name") or ids[0]), communes, phone_of(res, org)


def write_resources(
    s: Session, r: ImportReport, resources: list[dict[str, Any]], geo: CommuneIndex | None = None
) -> int:
    """Write the CPTS the resources describe; returns the directory revision used."""
    geo = geo or default_index()
    by_ref: dict[str, dict[str, Any]] = {}
    for res in resources:
        if res.get("id"):
            by_ref[f"{res.get('resourceType')}/{res['id']}"] = res
    services = [x for x in resources if x.get("resourceType") == "HealthcareService"]
    used_orgs: set[str] = set()
    found: dict[str, _Cpts] = {}
    r.start(len(services))
    for res in services:
        r.step()
        where = f"HealthcareService/{res.get('id', '?')}"
        try:
            offer = _read_offer(res, by_ref, geo, used_orgs)
        except _NotCpts as skip:
            r.skipped.append((where, str(skip)))
            continue
        except (AttributeError, TypeError, ValueError) as exc:  # a list where a dict goes…
            offer = f"ressource mal formée ({type(exc).__name__} : {exc})"
        if isinstance(offer, str):
            r.reject(where, offer)
            continue
        nid, name, communes, phone = offer
        cpts = found.setdefault(nid, _Cpts(nid, name))
        cpts.communes.update(communes)
        cpts.phone = cpts.phone or phone
        cpts.sources.append(where)
        r.accepted += 1
    for res in resources:
        key = f"{res.get('resourceType')}/{res.get('id', '?')}"
        if res.get("resourceType") == "Organization" and key not in used_orgs:
            r.skipped.append((key, "organisation sans offre (HealthcareService) dans le fichier"))
        elif res.get("resourceType") not in ("Organization", "HealthcareService"):
            r.skipped.append((key, "ressource non utilisée pour les zones des CPTS"))
    rev = bump_revision(s)
    _store(s, r, list(found.values()), rev)
    return rev


def _store(s: Session, r: ImportReport, found: list[_Cpts], rev: int) -> None:
    structures = list(s.scalars(select(Structure)))
    by_id = {x.national_id: x for x in structures if x.national_id}
    by_name = {fold(x.name): x for x in structures}
    for cpts in found:
        st = by_id.get(cpts.national_id)
        if st is None:
            # A CPTS typed in by hand before the ROR knew it: same name, same structure.
            st = by_name.get(fold(cpts.name))
            if st is not None and st.national_id and st.national_id != cpts.national_id:
                r.reject(
                    cpts.sources[0],
                    f"« {cpts.name} » : une autre structure de ce nom a l'identifiant "
                    f"{st.national_id}",
                )
                r.accepted -= len(cpts.sources)
                continue
        if st is None:
            st = Structure(kind=str(StructureKind.CPTS), name=cpts.name)
            s.add(st)
            by_name[fold(cpts.name)] = st  # two offers' CPTS of one name in one file
            r.created += 1
        else:
            r.updated += 1
        st.national_id = cpts.national_id
        st.kind = str(StructureKind.CPTS)
        st.communes = sorted(cpts.communes)
        if cpts.phone:
            st.snp_phone = cpts.phone
        else:
            r.warnings.append((cpts.sources[0], f"« {cpts.name} » : aucun téléphone dans le ROR"))
        st.rev = rev
    s.flush()


def import_ror(
    sessions: sessionmaker[Session], path: Path, *, strict: bool = False
) -> ImportReport:
    """``sasdesk import ror FILE``: one transaction, as every directory import."""
    report = ImportReport("zones des CPTS (ROR)", str(path))

    def work(s: Session, r: ImportReport) -> None:
        write_resources(s, r, read_resources(path.read_bytes(), r))

    return run_import(sessions, report, work, strict=strict)
