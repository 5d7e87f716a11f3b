"""Figures a French regulation room is held to, shared by its settings and features.

They sit with the domain because the settings' defaults (``app.config.settings``)
and the features that apply them (billing, the monthly report) both need them, and
the settings sit below the features.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

#: The room's clock: days, weeks and office hours are counted in Paris time.
PARIS = ZoneInfo("Europe/Paris")

#: Regulated SNP patients per doctor and per week that carry the 15 EUR supplement.
WEEKLY_SNP_CAP = 20

#: Calls answered: the room's target (99 %), shown next to the national figures.
TARGET_ANSWERED = 0.99
