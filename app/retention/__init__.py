"""How long dossiers, recordings and the audit trail are kept, and where that comes from.

The legal defaults and minima below are explained, with their sources, in
docs/security.md. A room may keep things longer (``[conservation]`` in hub.toml, in
days); ``sasdesk purge`` refuses to run with a period below its legal minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from app.config.settings import RetentionSettings

#: Code de la santé publique, art. R1112-7: 20 years after the last stay or consultation.
DOSSIER_YEARS = 20
#: R1112-7 again: a minor's record is kept at least until their 28th birthday.
MINOR_UNTIL_AGE = 28
#: The recording is part of the dossier de régulation (HAS, March 2011), so it follows the
#: dossier; the arrêté of 20 October 2011 (PDSA calls) sets 5 years as the floor.
RECORDING_YEARS = 20
RECORDING_MIN_YEARS = 5
#: CNIL recommendation on logging (deliberation 2021-122): 6 months to 1 year, up to 3
#: years for logs kept to control authorised users' access — what this trail is for.
AUDIT_YEARS = 3
AUDIT_MIN_DAYS = 183


@dataclass(frozen=True)
class Period:
    what: str  # French, for messages
    years: int  # the legal default
    days: int | None  # the room's own period, if set
    minimum_days: int
    source: str

    def cutoff(self, now: datetime) -> datetime:
        """Things older than this are due for deletion."""
        if self.days is not None:
            return now - timedelta(days=self.days)
        return now - relativedelta(years=self.years)

    def describe(self) -> str:
        if self.days is not None:
            return f"{self.days} jours (réglage de la salle)"
        return f"{self.years} ans ({self.source})"


@dataclass(frozen=True)
class Periods:
    dossiers: Period
    recordings: Period
    audit: Period

    def below_minimum(self) -> list[str]:
        """French reasons why a purge must not run with these periods (empty: it may)."""
        out = []
        for period in (self.dossiers, self.recordings, self.audit):
            if period.days is not None and period.days < period.minimum_days:
                out.append(
                    f"conservation des {period.what} de {period.days} jours, en dessous du "
                    f"minimum de {period.minimum_days} jours ({period.source})"
                )
        return out


def periods(settings: RetentionSettings) -> Periods:
    return Periods(
        dossiers=Period(
            "dossiers",
            DOSSIER_YEARS,
            settings.dossiers_days,
            _days(DOSSIER_YEARS),
            "Code de la santé publique, art. R1112-7",
        ),
        recordings=Period(
            "enregistrements",
            RECORDING_YEARS,
            settings.recordings_days,
            _days(RECORDING_MIN_YEARS),
            "arrêté du 20 octobre 2011 ; HAS 2011",
        ),
        audit=Period(
            "traces d'accès",
            AUDIT_YEARS,
            settings.audit_days,
            AUDIT_MIN_DAYS,
            "recommandation CNIL 2021-122 sur la journalisation",
        ),
    )


def _days(years: int) -> int:
    return years * 365 + years // 4 + 1  # never shorter than that many calendar years


def minor_keep_until(
    closed_at: datetime, birth_date: date | None, age: int | None
) -> datetime | None:
    """R1112-7: a minor's record is kept until their 28th birthday at least."""
    if birth_date is not None:
        birthday = birth_date + relativedelta(years=MINOR_UNTIL_AGE)
        return datetime.combine(birthday, closed_at.timetz())
    if age is not None and age < MINOR_UNTIL_AGE:
        # Age only (no birth date): the latest possible 28th birthday.
        return closed_at + relativedelta(years=MINOR_UNTIL_AGE - age + 1)
    return None
