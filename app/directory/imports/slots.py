"""``sasdesk import slots FILE``: slots from CSV, iCalendar (.ics) or a FHIR R4 Bundle.

All three end in ``SlotWriter``: rows are checked, then inserted in bulk; a slot
already imported from the same source (same reference) is updated, not doubled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.common import (
    ImportAborted,
    ImportReport,
    decode,
    parse_datetime,
    read_csv,
    run_import,
)
from app.directory.models import Effecteur, Practice, Slot, bump_revision
from app.directory.query import fold
from app.directory.vocab import HORIZON, SERVICE_TYPE_OF_FHIR, Visibility
from app.domain.enums import ConsultationType

_TYPES = {
    "cabinet": "cabinet",
    "c": "cabinet",
    "consultation": "cabinet",
    "teleconsultation": "teleconsultation",
    "t": "teleconsultation",
    "visite": "visite",
    "visite a domicile": "visite",
    "v": "visite",
    "domicile": "visite",
}
_VIS = {v.value.lower(): v.value for v in Visibility}
RPPS_OID = "urn:oid:1.2.250.1.71.4.2.1"
TYPE_CRENEAU = "TRE-R314-TypeCreneau"
ACT_CODE = "v3-ActCode"
#: When a slot carries several visibility codes, the most restrictive one is kept.
_VIS_ORDER = ["PUBLIC", "PRO", "SNP", "CPTS"]


@dataclass
class NewSlot:
    rpps: str
    start: datetime
    end: datetime
    consultation_type: str = "cabinet"
    capacity: int = 1
    visibility: str = "SNP"
    ref: str | None = None
    comment: str = ""


class SlotWriter:
    def __init__(self, s: Session, source: str, report: ImportReport):
        self.s = s
        self.source = source
        self.report = report
        self.rev = bump_revision(s)
        self.doctors = {
            rpps: (eid, pid)
            for rpps, eid, pid in s.execute(
                select(Effecteur.rpps, Effecteur.id, Practice.id)
                .join(Practice, Practice.effecteur_id == Effecteur.id, isouter=True)
                .order_by(Practice.id.desc())
            )
        }
        self.existing = {
            ref: sid
            for ref, sid in s.execute(
                select(Slot.source_ref, Slot.id).where(
                    Slot.source == source, Slot.source_ref.is_not(None)
                )
            )
        }
        self.batch: list[dict[str, Any]] = []
        self.refs_in_file: set[str] = set()

    def add(self, where: str, x: NewSlot) -> bool:
        doctor = self.doctors.get(x.rpps)
        if doctor is None:
            self.report.reject(
                where, f"RPPS {x.rpps} inconnu de l'annuaire : importez d'abord l'effecteur"
            )
            return False
        if x.end <= x.start:
            self.report.reject(where, "la fin précède le début")
            return False
        if x.end - x.start > timedelta(hours=14):
            self.report.reject(where, "créneau de plus de 14 h")
            return False
        if not 1 <= x.capacity <= 50:
            self.report.reject(where, f"capacité {x.capacity} hors de 1 à 50")
            return False
        if x.ref is not None:
            if x.ref in self.refs_in_file:
                self.report.reject(where, f"référence {x.ref} en double dans le fichier")
                return False
            self.refs_in_file.add(x.ref)
        values = dict(
            effecteur_id=doctor[0],
            practice_id=doctor[1],
            start=x.start,
            end=x.end,
            consultation_type=x.consultation_type,
            capacity=x.capacity,
            is_range=x.capacity > 1,
            visibility=x.visibility,
            source=self.source,
            source_ref=x.ref,
            comment=x.comment,
            rev=self.rev,
        )
        known = self.existing.get(x.ref) if x.ref is not None else None
        if known is not None:
            slot = self.s.get(Slot, known)
            assert slot is not None
            if slot.booked > x.capacity:
                self.report.reject(
                    where,
                    f"{slot.booked} patients déjà réservés : capacité {x.capacity} trop petite",
                )
                return False
            if slot.booked and (slot.start, slot.end) != (x.start, x.end):
                self.report.reject(where, "créneau déjà réservé : horaire non modifiable")
                return False
            for k, v in values.items():
                setattr(slot, k, v)
            slot.status = "open"
            self.report.updated += 1
        else:
            self.batch.append({**values, "booked": 0, "status": "open"})
            self.report.created += 1
            if len(self.batch) >= 5000:
                self.flush()
        self.report.accepted += 1
        return True

    def flush(self) -> None:
        if self.batch:
            self.s.execute(insert(Slot), self.batch)
            self.batch = []


# -- CSV ------------------------------------------------------------------------------


def _csv_work(path: Path) -> Any:
    def work(s: Session, r: ImportReport) -> None:
        rows = read_csv(path, r, ("rpps", "debut", "fin"))
        r.start(len(rows))
        w = SlotWriter(s, "csv", r)
        for number, row in rows:
            r.step()
            where = f"ligne {number}"
            try:
                ctype = _TYPES.get(fold(row.get("type", "")) or "cabinet")
                if ctype is None:
                    raise ValueError(
                        f"type « {row['type']} » : cabinet, teleconsultation ou visite"
                    )
                vis = _VIS.get((row.get("visibilite") or "SNP").strip().lower())
                if vis is None:
                    raise ValueError(
                        f"visibilité « {row['visibilite']} » : PUBLIC, PRO, SNP ou CPTS"
                    )
                cap = int(row.get("capacite") or 1)
                x = NewSlot(
                    re.sub(r"\s", "", row["rpps"]),
                    parse_datetime(row["debut"]),
                    parse_datetime(row["fin"]),
                    ctype,
                    cap,
                    vis,
                    row.get("reference") or None,
                    row.get("commentaire", ""),
                )
            except ValueError as exc:
                r.reject(
                    where,
                    str(exc).replace(
                        "invalid literal for int() with base 10", "capacité non numérique"
                    ),
                )
                continue
            w.add(where, x)
        w.flush()

    return work


# -- FHIR R4 Bundle (ANS SAS implementation guide) -----------------------------------------


def _ref_key(entry: dict[str, Any]) -> list[str]:
    res = entry.get("resource") or {}
    keys = []
    if res.get("resourceType") and res.get("id"):
        keys.append(f"{res['resourceType']}/{res['id']}")
    if entry.get("fullUrl"):
        keys.append(entry["fullUrl"])
    return keys


def _resolve(ref: str, index: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
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


def _fhir_work(path: Path) -> Any:
    def work(s: Session, r: ImportReport) -> None:
        try:
            bundle = json.loads(decode(path.read_bytes(), r))
        except json.JSONDecodeError as exc:
            raise ImportAborted(f"JSON invalide : {exc}") from None
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise ImportAborted("ce n'est pas un Bundle FHIR (resourceType ≠ Bundle)")
        entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
        index: dict[str, dict[str, Any]] = {}
        for entry in entries:
            for key in _ref_key(entry):
                index[key] = entry["resource"]
        w = SlotWriter(s, "fhir", r)
        r.start(sum(1 for e in entries if (e.get("resource") or {}).get("resourceType") == "Slot"))
        for entry in entries:
            res = entry.get("resource") or {}
            if res.get("resourceType") != "Slot":
                continue
            r.step()
            where = f"Slot/{res.get('id', '?')}"
            rpps, why = _slot_rpps(res, index)
            if rpps is None:
                r.reject(where, why)
                continue
            if res.get("status", "free") != "free":
                r.reject(
                    where,
                    f"statut « {res.get('status')} » : seuls les créneaux libres "
                    "(free) sont importés",
                )
                continue
            codes = [
                c.get("code")
                for st in res.get("serviceType") or []
                for c in (st.get("coding") or [])
                if ACT_CODE in str(c.get("system", ""))
            ]
            types = [SERVICE_TYPE_OF_FHIR[c] for c in codes if c in SERVICE_TYPE_OF_FHIR]
            if len(set(types)) > 1:
                r.warnings.append(
                    (
                        where,
                        "plusieurs types (" + ", ".join(codes) + ") : "
                        f"importé comme {types[0].label}",
                    )
                )
            security = [
                c.get("code")
                for c in (res.get("meta") or {}).get("security") or []
                if TYPE_CRENEAU in str(c.get("system", ""))
            ]
            vis = max((c for c in security if c in _VIS_ORDER), key=_VIS_ORDER.index, default="SNP")
            try:
                start, end = parse_datetime(res["start"]), parse_datetime(res["end"])
            except (KeyError, ValueError) as exc:
                r.reject(where, f"début/fin manquant ou illisible ({exc})")
                continue
            w.add(
                where,
                NewSlot(
                    rpps,
                    start,
                    end,
                    str(types[0] if types else ConsultationType.CABINET),
                    1,
                    vis,
                    res.get("id") or entry.get("fullUrl"),
                    str(res.get("comment") or ""),
                ),
            )
        w.flush()

    return work


def _slot_rpps(slot: dict[str, Any], index: dict[str, dict[str, Any]]) -> tuple[str | None, str]:
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


# -- iCalendar -----------------------------------------------------------------------------

_CAPACITY = re.compile(r"(\d{1,2})\s*(?:patients?|places?)")


def _ics_work(path: Path, rpps: str, now: datetime, until: datetime) -> Any:
    from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
    from icalendar import Calendar

    def work(s: Session, r: ImportReport) -> None:
        try:
            calendar = Calendar.from_ical(path.read_bytes())
        except ValueError as exc:
            raise ImportAborted(f"iCalendar illisible : {exc}") from None
        w = SlotWriter(s, "ics", r)
        events = calendar.walk("VEVENT")
        r.start(len(events))
        for event in events:
            r.step()
            uid = str(event.get("UID") or "")
            where = f"événement {uid or event.get('SUMMARY', '?')}"
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            start = event.decoded("DTSTART") if event.get("DTSTART") else None
            if not isinstance(start, datetime):
                r.reject(where, "événement sur la journée entière ou sans heure de début")
                continue
            if event.get("DTEND"):
                end = event.decoded("DTEND")
            elif event.get("DURATION"):
                end = start + event.decoded("DURATION")
            else:
                r.reject(where, "ni fin ni durée")
                continue
            if start.tzinfo is None:  # floating time: the doctor's wall clock, in France
                from app.directory.vocab import PARIS

                start, end = start.replace(tzinfo=PARIS), end.replace(tzinfo=PARIS)
            text = fold(
                f"{event.get('SUMMARY', '')} {event.get('CATEGORIES', '')} "
                f"{event.get('LOCATION', '')}"
            )
            ctype = (
                "teleconsultation"
                if "teleconsult" in text or "visio" in text
                else "visite"
                if "visite" in text or "domicile" in text
                else "cabinet"
            )
            capacity = int(m.group(1)) if (m := _CAPACITY.search(text)) else 1
            duration = end - start
            starts = [start]
            if event.get("RRULE"):
                rrule_text = event["RRULE"].to_ical()
                if isinstance(rrule_text, bytes):
                    rrule_text = rrule_text.decode()
                rule = rrulestr(rrule_text, dtstart=start)
                raw_ex = event.get("EXDATE")
                ex_lists = raw_ex if isinstance(raw_ex, list) else ([raw_ex] if raw_ex else [])
                excluded = {
                    x.dt.astimezone(UTC)
                    for lst in ex_lists
                    for x in lst.dts
                    if isinstance(x.dt, datetime) and x.dt.tzinfo is not None
                }
                starts = [
                    d
                    for d in rule.between(now - duration, until, inc=True)
                    if d.astimezone(UTC) not in excluded
                ]
            for occ in starts:
                a, b = occ.astimezone(UTC), (occ + duration).astimezone(UTC)
                if b <= now or a >= until:
                    continue
                w.add(
                    where,
                    NewSlot(
                        rpps,
                        a,
                        b,
                        ctype,
                        capacity,
                        "SNP",
                        f"{uid}@{a:%Y%m%dT%H%M%SZ}" if uid else None,
                    ),
                )
        w.flush()

    return work


def import_slots(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    rpps: str | None = None,
    now: datetime | None = None,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a slots file; the format is taken from its extension (.csv, .ics, .json)."""
    suffix = path.suffix.lower()
    now = now or datetime.now(UTC)
    if suffix == ".csv":
        report, work = ImportReport("créneaux CSV", str(path)), _csv_work(path)
    elif suffix in (".json", ".fhir"):
        report, work = ImportReport("créneaux FHIR", str(path)), _fhir_work(path)
    elif suffix in (".ics", ".ical"):
        report = ImportReport("agenda iCalendar", str(path))
        if not rpps:
            report.aborted = "préciser --rpps : l'agenda .ics de quel médecin ?"
            return report
        work = _ics_work(path, rpps, now, now + HORIZON)
    else:
        report = ImportReport("créneaux", str(path))
        report.aborted = f"format {suffix or '(sans extension)'} inconnu : .csv, .ics ou .json"
        return report
    report.progress = progress
    return run_import(sessions, report, work, strict=strict)
