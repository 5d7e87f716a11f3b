"""Read the weekly availabilities doctors send as free text.

"Vendredi 16h-18h", "du lundi au jeudi de 11h45 à 12h15 (3 créneaux)", "les lundi
mardi jeudi et vendredi de 14h à 15h et le mercredi de 18h à 19h", "16h-17h du lundi
au vendredi", "Samedi matin 9h-11h, une semaine sur deux"… become ``WeeklyRule``s.
A line is read only when every day set has an explicit time range; otherwise it is
returned as unreadable with the reason, never dropped or guessed ("1 à 2
consultations par jour l'après-midi" has no hours: a person must ask the doctor).
The grammar is in docs/directory.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.directory.vocab import PARIS
from app.domain.enums import ConsultationType

DEFAULT_SLOT_MINUTES = 15

_DAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "lun": 0,
    "mar": 1,
    "mer": 2,
    "jeu": 3,
    "ven": 4,
    "sam": 5,
    "dim": 6,
}
_DAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim)"
_HOUR = r"(?:h|:)"
_TOKEN = re.compile(
    rf"""
    (?P<range>(?:de\s+)?(?P<h1>\d{{1,2}})\s*(?:{_HOUR}\s*(?P<m1>\d{{2}})?)?\s*
        (?:-|/|a|jusqu'?\s*a)\s*(?P<h2>\d{{1,2}})\s*{_HOUR}\s*(?P<m2>\d{{2}})?)
    |(?P<dayrange>(?:du\s+)?\b(?P<d1>{_DAY})s?\s+au\s+(?P<d2>{_DAY})s?\b)
    |(?P<day>\b{_DAY}s?\b)
    |(?P<every>\btous\s+les\s+jours\b|\bchaque\s+jour\b|\b7\s*j\s*/\s*7\b)
    |(?P<weekdays>\ben\s+semaine\b)
    |(?P<count>\b(?P<n>\d{{1,2}})\s*(?P<unit>creneaux|creneau|patients?|consultations?|places?)\b)
    |(?P<alt>\bune\s+semaine\s+sur\s+deux\b)
    |(?P<tele>\bteleconsult\w*|\bvisio\w*)
    |(?P<visit>\bvisites?\b|\bdomicile\b)
    |(?P<lone>\b\d{{1,2}}\s*h\s*\d{{0,2}}\b)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class WeeklyRule:
    """A weekly availability: on ``weekdays`` (0 = Monday), from ``start`` to ``end``
    minutes after midnight, Paris time. ``slot_minutes`` > 0 cuts it into single slots
    of that length; 0 makes one multi-patient range of ``capacity`` places."""

    weekdays: tuple[int, ...]
    start_minute: int
    end_minute: int
    consultation_type: ConsultationType = ConsultationType.CABINET
    capacity: int = 1
    slot_minutes: int = DEFAULT_SLOT_MINUTES
    every_other_week: bool = False
    source_text: str = ""


@dataclass
class ParsedAvailability:
    rules: list[WeeklyRule] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (line, why)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    ascii_text = re.sub(r"[–—]", "-", ascii_text)
    # "entre 14h et 16h" is a range; a bare "14h et 17h" is two isolated times.
    return re.sub(r"\bentre\s+(\d{1,2}\s*h\s*\d{0,2})\s+et\s+", r"de \1 a ", ascii_text)


@dataclass
class _Range:
    start: int
    end: int
    count: int | None = None
    unit: str = ""


def _minutes(h: str, m: str | None) -> int:
    return int(h) * 60 + int(m or 0)


class Unreadable(ValueError):
    pass


def parse_line(line: str) -> list[WeeklyRule]:
    """The rules of one line, or ``Unreadable`` saying why it cannot be read."""
    text = _fold(line).strip()
    if not text:
        raise Unreadable("ligne vide")
    groups: list[tuple[set[int], list[_Range]]] = []
    days: set[int] | None = None
    ranges: list[_Range] = []
    pending: list[_Range] = []  # times written before their days ("16h-17h du lundi…")
    pending_count: tuple[int, str] | None = None
    ctype = ConsultationType.CABINET
    alternate = False
    lone = 0

    def add_days(new: Iterable[int]) -> None:
        nonlocal days, ranges, pending
        if days is not None and ranges:
            groups.append((days, ranges))
            days, ranges = None, []
        if days is None:
            days = set()
        days.update(new)
        if pending:
            ranges.extend(pending)
            pending = []

    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "range":
            start, end = _minutes(m["h1"], m["m1"]), _minutes(m["h2"], m["m2"])
            if m["h2"] == "24" and not m["m2"]:
                end = 24 * 60
            if not (0 <= start < end <= 24 * 60) or int(m["h1"]) > 23:
                raise Unreadable(f"horaire incohérent « {m.group(0).strip()} »")
            r = _Range(start, end)
            if pending_count:
                r.count, r.unit = pending_count
                pending_count = None
            (ranges if days is not None else pending).append(r)
        elif kind == "dayrange":
            d1, d2 = _DAYS[m["d1"]], _DAYS[m["d2"]]
            span = [(d1 + i) % 7 for i in range((d2 - d1) % 7 + 1)]
            add_days(span)
        elif kind == "day":
            add_days([_DAYS[m.group(0).rstrip("s") if m.group(0) not in _DAYS else m.group(0)]])
        elif kind == "every":
            add_days(range(7))
        elif kind == "weekdays":
            add_days(range(5))
        elif kind == "count":
            value = (int(m["n"]), m["unit"])
            target = ranges[-1] if ranges else (pending[-1] if pending else None)
            if target is not None and target.count is None:
                target.count, target.unit = value
            else:
                pending_count = value
        elif kind == "alt":
            alternate = True
        elif kind == "tele":
            ctype = ConsultationType.TELECONSULTATION
        elif kind == "visit":
            ctype = ConsultationType.VISITE
        elif kind == "lone":
            lone += 1
    if days is not None:
        groups.append((days, ranges))
    return _rules(groups, pending, lone, ctype, alternate, line)


def _rules(
    groups: list[tuple[set[int], list[_Range]]],
    pending: list[_Range],
    lone: int,
    ctype: ConsultationType,
    alternate: bool,
    line: str,
) -> list[WeeklyRule]:
    """The line's days and ranges as weekly rules, or ``Unreadable``: times without days,
    a lone hour, no range at all, a range of no place."""
    if pending:
        raise Unreadable("jour non précisé pour l'horaire")
    if lone and not any(rs for _, rs in groups):
        raise Unreadable("heure isolée sans fin de plage")
    if not groups:
        raise Unreadable("ni jour ni horaire reconnus")
    if any(not rs for _, rs in groups):
        raise Unreadable("pas d'horaire précis (heure de début et de fin)")
    if lone:
        raise Unreadable("heure isolée sans fin de plage")
    rules = []
    for group_days, rs in groups:
        for r in rs:
            capacity, slot_minutes = 1, DEFAULT_SLOT_MINUTES
            if r.count is not None:
                if r.count < 1:
                    raise Unreadable("nombre de places nul")
                if r.unit.startswith(("creneau", "consultation")):
                    slot_minutes = max(1, (r.end - r.start) // r.count)
                else:  # "plage de 3 patients", "2 places": one range taking N patients
                    capacity, slot_minutes = r.count, 0
            rules.append(
                WeeklyRule(
                    tuple(sorted(group_days)),
                    r.start,
                    r.end,
                    ctype,
                    capacity,
                    slot_minutes,
                    alternate,
                    line.strip(),
                )
            )
    return rules


def parse_availability(lines: Iterable[str]) -> ParsedAvailability:
    """Read every line; the ones that cannot be read are listed with the reason."""
    out = ParsedAvailability()
    for raw in lines:
        for line in str(raw).splitlines():
            if not line.strip():
                continue
            try:
                rules = parse_line(line)
            except Unreadable as exc:
                out.unreadable.append((line.strip(), str(exc)))
                continue
            out.rules.extend(rules)
            if any(r.every_other_week for r in rules):
                out.warnings.append(
                    (
                        line.strip(),
                        "une semaine sur deux : les semaines paires "
                        "(numéro ISO) sont retenues, à vérifier avec le médecin",
                    )
                )
    return out


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # aware UTC
    end: datetime
    capacity: int
    consultation_type: ConsultationType


def occurrences(rule: WeeklyRule, since: datetime, until: datetime) -> Iterator[Occurrence]:
    """The slots (or ranges) of ``rule`` that end after ``since`` and start before
    ``until``, built in Paris local time (so 14h stays 14h across DST)."""
    day = since.astimezone(PARIS).date()
    last = until.astimezone(PARIS).date()
    while day <= last:
        if day.weekday() in rule.weekdays and (
            not rule.every_other_week or day.isocalendar().week % 2 == 0
        ):
            yield from _on_day(rule, day, since, until)
        day += timedelta(days=1)


def _on_day(rule: WeeklyRule, day: date, since: datetime, until: datetime) -> Iterator[Occurrence]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=PARIS)

    def at(minute: int) -> datetime:
        local = midnight + timedelta(minutes=minute)  # wall-clock arithmetic in PARIS
        return local.replace(tzinfo=PARIS).astimezone(since.tzinfo)

    if rule.slot_minutes <= 0:
        pieces = [(rule.start_minute, rule.end_minute, rule.capacity)]
    else:
        pieces = [
            (m, m + rule.slot_minutes, 1)
            for m in range(
                rule.start_minute, rule.end_minute - rule.slot_minutes + 1, rule.slot_minutes
            )
        ] or [(rule.start_minute, rule.end_minute, 1)]
    for a, b, cap in pieces:
        start, end = at(a), at(b)
        if end > since and start < until:
            yield Occurrence(start, end, cap, rule.consultation_type)
