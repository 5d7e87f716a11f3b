"""``sasdesk import slots FILE``: slots from CSV, iCalendar (.ics) or a FHIR R4 Bundle.

All three end in ``SlotWriter``: rows are checked, then inserted in bulk; a slot
already imported from the same source (same reference) is updated, not doubled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.common import (
    ImportAborted,
    ImportReport,
    parse_datetime,
    read_csv,
    run_import,
)
from app.directory.models import (
    Effecteur,
    Practice,
    Slot,
    Structure,
    Unavailability,
    bump_revision,
)
from app.directory.query import fold
from app.directory.vocab import IMPORT_HORIZON, PARIS, Visibility

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
    structure_id: int | None = None  # the CPTS whose desks see a CPTS slot


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
        rows = s.execute(select(Structure.id, Structure.name, Structure.national_id)).all()
        self.structures = {fold(name): sid for sid, name, _ in rows}
        #: The structures the ROR identified (FINESS or ROR id): how a FHIR slot's CPTS
        #: Organization is matched first.
        self.structures_by_id = {nid: sid for sid, _, nid in rows if nid}

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
            structure_id=x.structure_id,
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


# -- iCalendar -----------------------------------------------------------------------------

_CAPACITY = re.compile(r"(\d{1,2})\s*(?:patients?|places?)")
#: An event saying the doctor is away is an unavailability, not a slot.
_ABSENCE = re.compile(
    r"\b(?:absen\w*|conges?|vacances|indisponib\w*|indispo|fermetures?|ferme|"
    r"cabinet ferme|arret maladie)\b"
)


def _paris(value: date | datetime) -> datetime:
    """A DTSTART/DTEND/EXDATE value as an aware datetime: dates are Paris midnight,
    floating times the doctor's wall clock in France."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), PARIS)
    return value if value.tzinfo is not None else value.replace(tzinfo=PARIS)


def _dates(event: Any, name: str) -> list[datetime]:
    raw = event.get(name)
    lists = raw if isinstance(raw, list) else ([raw] if raw else [])
    return [_paris(x.dt) for lst in lists for x in lst.dts]


def _ics_work(path: Path, rpps: str, now: datetime, until: datetime) -> Any:
    from dateutil.rrule import rruleset, rrulestr
    from icalendar import Calendar

    horizon = (
        f"{(until - now).days} jours"
        if (until - now).days % 7
        else (f"{(until - now).days // 7} semaine(s)")
    )

    def work(s: Session, r: ImportReport) -> None:
        try:
            calendar = Calendar.from_ical(path.read_bytes())
        except ValueError as exc:
            raise ImportAborted(f"iCalendar illisible : {exc}") from None
        for component in calendar.subcomponents:
            if component.name not in ("VEVENT", "VTIMEZONE"):
                r.skipped.append(
                    (f"composant {component.name}", "seuls les VEVENT sont des créneaux")
                )
        w = SlotWriter(s, "ics", r)
        doctor = w.doctors.get(rpps)
        events = calendar.walk("VEVENT")
        r.start(len(events))
        for event in events:
            r.step()
            uid = str(event.get("UID") or "")
            summary = str(event.get("SUMMARY", ""))
            where = f"événement {uid or summary or '?'}"
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                r.skipped.append((where, "annulé (STATUS:CANCELLED)"))
                continue
            if not event.get("DTSTART"):
                r.reject(where, "sans date de début")
                continue
            start = _paris(event.decoded("DTSTART"))
            all_day = not isinstance(event.decoded("DTSTART"), datetime)
            if event.get("DTEND"):
                end = _paris(event.decoded("DTEND"))
            elif event.get("DURATION"):
                end = start + event.decoded("DURATION")
            elif all_day:
                end = start + timedelta(days=1)
            else:
                r.reject(where, "ni fin ni durée")
                continue
            text = fold(f"{summary} {event.get('CATEGORIES', '')} {event.get('LOCATION', '')}")
            absence = bool(_ABSENCE.search(text))
            if all_day and not absence:
                r.reject(
                    where,
                    f"événement sur la journée entière « {summary} » : ni créneau ni "
                    "absence (« absent », « congés »…) : non importé",
                )
                continue
            duration = end - start
            occurrences = [start]
            if event.get("RRULE") or event.get("RDATE"):
                if event.get("RRULE"):
                    text_rule = event["RRULE"].to_ical()
                    if isinstance(text_rule, bytes):
                        text_rule = text_rule.decode()
                    rules = rrulestr(text_rule, dtstart=start, forceset=True)
                    assert isinstance(rules, rruleset)
                else:
                    rules = rruleset()
                    rules.rdate(start)
                for extra in _dates(event, "RDATE"):
                    rules.rdate(extra)
                for excluded in _dates(event, "EXDATE"):
                    rules.exdate(excluded)
                past = rules.between(start - timedelta(seconds=1), now - duration, inc=True)
                if past:
                    r.skipped.append(
                        (
                            where,
                            f"{len(past)} occurrence(s) passée(s), la dernière le "
                            f"{past[-1].astimezone(PARIS):%d/%m/%Y %H:%M}",
                        )
                    )
                occurrences = rules.between(now - duration, until, inc=True)
                later = rules.after(until, inc=True)
                if later is not None:
                    first_later = later.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
                    r.skipped.append(
                        (
                            where,
                            f"occurrences à partir du {first_later} au-delà de "
                            f"l'horizon de {horizon}",
                        )
                    )
            elif end <= now:
                r.skipped.append((where, f"passé (le {start.astimezone(PARIS):%d/%m/%Y %H:%M})"))
                continue
            elif start >= until:
                r.skipped.append(
                    (
                        where,
                        f"le {start.astimezone(PARIS):%d/%m/%Y %H:%M}, au-delà de "
                        f"l'horizon de {horizon}",
                    )
                )
                continue
            if absence:
                if doctor is None:
                    r.reject(
                        where, f"RPPS {rpps} inconnu de l'annuaire : importez d'abord l'effecteur"
                    )
                    continue
                for occ in occurrences:
                    _unavailable(s, w, doctor[0], occ, occ + duration, summary, r)
                continue
            ctype = (
                "teleconsultation"
                if "teleconsult" in text or "visio" in text
                else "visite"
                if "visite" in text or "domicile" in text
                else "cabinet"
            )
            capacity = int(m.group(1)) if (m := _CAPACITY.search(text)) else 1
            for occ in occurrences:
                a, b = occ.astimezone(UTC), (occ + duration).astimezone(UTC)
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


def _unavailable(
    s: Session,
    w: SlotWriter,
    effecteur_id: int,
    start: datetime,
    end: datetime,
    reason: str,
    r: ImportReport,
) -> None:
    """An absence from the agenda: one unavailability, not doubled by a re-import."""
    a, b = start.astimezone(UTC), end.astimezone(UTC)
    known = s.scalar(
        select(Unavailability.id).where(
            Unavailability.effecteur_id == effecteur_id,
            Unavailability.start == a,
            Unavailability.end == b,
        )
    )
    if known is not None:
        r.updated += 1
    else:
        s.execute(
            update(Effecteur).where(Effecteur.id == effecteur_id).values(rev=w.rev)
        )  # the search index reloads this doctor's absences
        s.add(
            Unavailability(
                effecteur_id=effecteur_id, start=a, end=b, reason=reason or "absent", rev=w.rev
            )
        )
        r.created += 1
    r.accepted += 1


def import_slots(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    rpps: str | None = None,
    now: datetime | None = None,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    horizon: timedelta = IMPORT_HORIZON,
) -> ImportReport:
    """Import a slots file; the format is taken from its extension (.csv, .ics, .json).

    An agenda (.ics) is kept over ``horizon`` (4 weeks by default); the search itself
    shows the next 72 h.
    """
    suffix = path.suffix.lower()
    now = now or datetime.now(UTC)
    if suffix == ".csv":
        report, work = ImportReport("créneaux CSV", str(path)), _csv_work(path)
    elif suffix in (".json", ".fhir"):
        from app.directory.imports.fhir import fhir_file_work

        report, work = ImportReport("créneaux FHIR", str(path)), fhir_file_work(path)
    elif suffix in (".ics", ".ical"):
        report = ImportReport("agenda iCalendar", str(path))
        if not rpps:
            report.aborted = "préciser --rpps : l'agenda .ics de quel médecin ?"
            return report
        work = _ics_work(path, rpps, now, now + horizon)
    else:
        report = ImportReport("créneaux", str(path))
        report.aborted = f"format {suffix or '(sans extension)'} inconnu : .csv, .ics ou .json"
        return report
    report.progress = progress
    return run_import(sessions, report, work, strict=strict)
