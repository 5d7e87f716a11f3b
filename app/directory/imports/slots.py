"""``sasdesk import slots FILE``: slots from CSV, iCalendar (.ics) or a FHIR R4 Bundle.

All three end in ``SlotWriter``: rows are checked, then inserted in bulk; a slot
already imported from the same source (same reference) is updated, not doubled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.common import (
    ImportAborted,
    ImportReport,
    parse_datetime,
    read_csv,
    run_import,
)
from app.directory.imports.fhir import fhir_file_work
from app.directory.imports.slot_writer import NewSlot, SlotWriter
from app.directory.models import (
    Effecteur,
    Unavailability,
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


def _end(event: Any, start: datetime, all_day: bool) -> datetime | None:
    """An event's end: DTEND, else DTSTART + DURATION, else the day's end for an event
    over the whole day; None without any."""
    if event.get("DTEND"):
        return _paris(event.decoded("DTEND"))
    if event.get("DURATION"):
        return start + event.decoded("DURATION")
    if all_day:
        return start + timedelta(days=1)
    return None


def _ics_work(path: Path, rpps: str, now: datetime, until: datetime) -> Any:
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
            end = _end(event, start, all_day)
            if end is None:
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
                occurrences = _occurrences(event, start, duration, now, until, where, horizon, r)
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
            _add_slots(w, where, rpps, uid, text, occurrences, duration)
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


def _occurrences(
    event: Any,
    start: datetime,
    duration: timedelta,
    now: datetime,
    until: datetime,
    where: str,
    horizon: str,
    r: ImportReport,
) -> list[datetime]:
    """A recurring event's occurrences from now to ``until`` (RRULE, RDATE, EXDATE);
    those past and those beyond the horizon are told in the report."""
    from dateutil.rrule import rruleset, rrulestr

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
                f"occurrences à partir du {first_later} au-delà de l'horizon de {horizon}",
            )
        )
    return occurrences


def _add_slots(
    w: SlotWriter,
    where: str,
    rpps: str,
    uid: str,
    text: str,
    occurrences: list[datetime],
    duration: timedelta,
) -> None:
    """An event's occurrences as slots: the type and capacity its words say."""
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
