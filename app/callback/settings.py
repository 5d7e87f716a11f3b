"""The room's settings for the call-back: SAS opening hours, retry delay, PDSA start.

Read from ``resources/callback/reglages.toml`` and validated: a wrong value is
refused with its file, line and reason, and the hub does not start on it. A hub.toml
may carry the same tables (``SECTION``): the ones it leaves out keep the room file's
values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.config.sections import Reading, Section
from app.config.tomlfile import FileError, FileProblem, line_of, read_toml
from app.directory.vocab import PARIS, WEEKLY_SNP_CAP
from app.resources import resource

RESOURCES = resource("callback")
SETTINGS_FILE = RESOURCES / "reglages.toml"

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_HOUR = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Settings:
    #: Opening span per weekday (0 = Monday), None when closed all day.
    hours: tuple[tuple[time, time] | None, ...]
    retry_delay: timedelta
    deadline_warning: timedelta
    pdsa_start: time
    sas_name: str = "SAS"
    osnp_phone: str = ""
    sender: str = "Service d'accès aux soins (SAS)"
    sender_address: str = ""
    #: Set by the hub from its configuration ([objectifs] plafond_snp_semaine).
    weekly_cap: int = WEEKLY_SNP_CAP

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(PARIS)
        span = self.hours[local.weekday()]
        return span is not None and span[0] <= local.time() < span[1]

    def next_closing(self, at: datetime) -> datetime:
        """When the SAS closes next (``at`` itself if it is closed now)."""
        if not self.is_open(at):
            return at
        local = at.astimezone(PARIS)
        span = self.hours[local.weekday()]
        assert span is not None
        return datetime.combine(local.date(), span[1], tzinfo=PARIS).astimezone(at.tzinfo)

    def last_closing(self, at: datetime) -> datetime:
        """Start of the closed period ``at`` is in (for one alert per closed period)."""
        local = at.astimezone(PARIS)
        for back in range(0, 8):
            day = local.date() - timedelta(days=back)
            span = self.hours[day.weekday()]
            if span is None:
                continue
            end = datetime.combine(day, span[1], tzinfo=PARIS)
            if end <= local:
                return end.astimezone(at.tzinfo)
        return at

    def pdsa_active(self, at: datetime) -> bool:
        """The duty doctor takes over from ``pdsa_start``, and whenever the SAS is closed."""
        local = at.astimezone(PARIS)
        return local.time() >= self.pdsa_start or not self.is_open(at)


def _hm(match: re.Match[str], first: int) -> time | None:
    h, m = int(match.group(first)), int(match.group(first + 1))
    if h == 24 and m == 0:
        return time(23, 59, 59)
    if h > 23 or m > 59:
        return None
    return time(h, m)


#: The tables ``parse_settings`` reads, with their keys (a hub.toml may carry them too).
SECTIONS: dict[str, tuple[str, ...]] = {
    "horaires_sas": DAYS,
    "delais": ("rappel_sans_reponse_minutes", "alerte_echeance_heures"),
    "pdsa": ("debut",),
    "sas": ("nom", "numero_rappel_osnp", "expediteur", "adresse"),
}


def load_settings(path: Path = SETTINGS_FILE) -> Settings:
    data, lines = read_toml(path)
    return parse_settings(data, lines, path)


Bad = Callable[[str, str, str], None]  # (key, table, reason): a problem at that key's line


def parse_settings(data: dict[str, Any], lines: list[str], path: Path) -> Settings:
    """Settings from TOML tables already read from ``path`` (FileError if wrong)."""
    problems: list[FileProblem] = []

    def bad(key: str, table: str, reason: str) -> None:
        problems.append(FileProblem(path, line_of(lines, key, table), reason))

    for table in ("horaires_sas", "delais", "pdsa"):
        if not isinstance(data.get(table), dict):
            problems.append(FileProblem(path, None, f"section [{table}] manquante"))
    if problems:
        raise FileError(problems)
    hours = _opening_hours(data["horaires_sas"], bad)
    retry, warn = _delays(data["delais"], bad)
    raw_pdsa = str(data["pdsa"].get("debut", ""))
    pdsa_match = _HOUR.match(raw_pdsa)
    pdsa = _hm(pdsa_match, 1) if pdsa_match else None
    if pdsa is None:
        bad(
            "debut",
            "pdsa",
            f'heure de début de la PDSA invalide : « {raw_pdsa} » (attendu par exemple "20:00")',
        )
        pdsa = time(20, 0)
    texts = _sas_texts(data.get("sas", {}), bad)
    if not texts["nom"]:
        problems.append(
            FileProblem(
                path, line_of(lines, "nom", "sas"), '[sas] nom manquant (par exemple "SAS 17")'
            )
        )
    if problems:
        raise FileError(problems)
    return Settings(
        tuple(hours),
        timedelta(minutes=retry),
        timedelta(hours=warn),
        pdsa,
        texts["nom"],
        texts["numero_rappel_osnp"],
        texts["expediteur"] or "Service d'accès aux soins (SAS)",
        texts["adresse"],
    )


def _opening_hours(table: dict[str, Any], bad: Bad) -> list[tuple[time, time] | None]:
    """``[horaires_sas]``: each day's span, None when closed (or wrong: told to ``bad``)."""
    hours: list[tuple[time, time] | None] = []
    for key in set(table) - set(DAYS):
        bad(key, "horaires_sas", f"jour inconnu « {key} » (attendu : {', '.join(DAYS)})")
    for day in DAYS:
        value = table.get(day)
        if value is None:
            bad(day, "horaires_sas", f'horaire du {day} manquant ("" si fermé)')
            hours.append(None)
            continue
        if value == "":
            hours.append(None)
            continue
        match = _SPAN.match(str(value))
        start = _hm(match, 1) if match else None
        end = _hm(match, 3) if match else None
        if start is None or end is None or end <= start:
            bad(
                day,
                "horaires_sas",
                f'horaire du {day} invalide : « {value} » (attendu par exemple "08:00-20:00")',
            )
            hours.append(None)
            continue
        hours.append((start, end))
    return hours


def _delays(delays: dict[str, Any], bad: Bad) -> tuple[int, int | float]:
    """``[delais]``: minutes before calling back an unanswered number, hours before a
    deadline's warning (defaults where wrong, told to ``bad``)."""
    retry = delays.get("rappel_sans_reponse_minutes")
    if not isinstance(retry, int) or isinstance(retry, bool) or not 1 <= retry <= 240:
        bad(
            "rappel_sans_reponse_minutes",
            "delais",
            "rappel_sans_reponse_minutes doit être un nombre entier de 1 à 240",
        )
        retry = 15
    warn = delays.get("alerte_echeance_heures")
    if not isinstance(warn, int | float) or isinstance(warn, bool) or not 0 < warn < 48:
        bad(
            "alerte_echeance_heures",
            "delais",
            "alerte_echeance_heures doit être un nombre d'heures entre 0 et 48",
        )
        warn = 4
    return retry, warn


def _sas_texts(sas: object, bad: Bad) -> dict[str, str]:
    """``[sas]``: the room's name, call-back number, letters' sender and address."""
    texts: dict[str, str] = {}
    for key in ("nom", "numero_rappel_osnp", "expediteur", "adresse"):
        value = sas.get(key, "") if isinstance(sas, dict) else ""
        if not isinstance(value, str):
            bad(key, "sas", f"{key} doit être un texte entre guillemets")
            value = ""
        texts[key] = value.strip()
    return texts


def _read_section(reading: Reading) -> Settings | None:
    """The call-back tables of a hub.toml over those of the room file; None when the
    hub.toml has none of them (the hub then reads the room file itself)."""
    if not any(isinstance(reading.data.get(t), dict) for t in SECTIONS):
        return None
    defaults, _ = read_toml(SETTINGS_FILE)
    merged = {t: {**defaults.get(t, {}), **reading.table(t)} for t in SECTIONS}
    return parse_settings(merged, reading.lines, reading.path)


#: The call-back's part of hub.toml: SAS opening hours, reminder delays, PDSA, SAS names.
SECTION: Section[Settings] = Section(Settings, SECTIONS, _read_section)
