"""Days, weeks and months as the room counts them: Paris local time.

Events are stamped in UTC; a day of the OSNP's table is a Paris calendar day, so
every bucket is computed in Europe/Paris (23- and 25-hour days included).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

#: Weekdays on which the OSNP desk is open (0 = Monday): these days always appear as
#: rows, even with no activity; other days appear only when something happened.
OPEN_WEEKDAYS = frozenset({0, 1, 2, 3, 4})

DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@lru_cache(maxsize=65536)
def paris_hour(utc_hour: int) -> tuple[date, int]:
    # Paris is a whole number of hours from UTC: one conversion per UTC hour suffices.
    local = datetime.fromtimestamp(utc_hour * 3600, PARIS)
    return local.date(), local.hour


def local_day(at: datetime) -> date:
    return paris_hour(int(at.timestamp()) // 3600)[0]


def local_hour(at: datetime) -> int:
    return paris_hour(int(at.timestamp()) // 3600)[1]


def day_start(day: date) -> datetime:
    """Midnight in Paris of ``day``, as an aware UTC instant."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week: the key of weekly subtotals."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    """A half-open range of Paris days [first, last]."""

    first: date
    last: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """``YYYY-MM`` → the month, or ValueError in French."""
        try:
            year, month = (int(x) for x in text.split("-"))
            return cls.month(year, month)
        except (ValueError, TypeError):
            raise ValueError(f"mois invalide « {text} » : attendu AAAA-MM (ex. 2023-06)") from None

    @cached_property
    def start(self) -> datetime:
        return day_start(self.first)

    @cached_property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    @property
    def label(self) -> str:
        if (
            self.first.day == 1
            and self.last.month == self.first.month
            and (self.last + timedelta(days=1)).day == 1
        ):
            return f"{MONTH_NAMES[self.first.month - 1]} {self.first.year}"
        return f"du {self.first:%d/%m/%Y} au {self.last:%d/%m/%Y}"


def day_label(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day}"
