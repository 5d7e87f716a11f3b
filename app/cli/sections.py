"""The features' sections of hub.toml, handed to the configuration loader.

The configuration layer (``app.config``) sits below the features and imports none of
them; each feature declares its tables next to its settings class
(``app.config.sections.Section``), and this list, above the features, is where they
meet the loader. A feature with a hub.toml table adds its section here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.appointments.settings import ENDPOINT_SECTION, PLATFORM_SECTION
from app.callback.settings import SECTION as CALLBACK_SECTION
from app.config.hubfile import load_hub_file
from app.config.sections import Section
from app.config.settings import HubSettings

#: Every feature section a hub.toml may hold, in the order their problems are listed.
SECTIONS: tuple[Section[Any], ...] = (ENDPOINT_SECTION, PLATFORM_SECTION, CALLBACK_SECTION)


def load_hub_config(path: Path) -> HubSettings:
    """``path`` read with the kernel's tables and every feature's (FileError if wrong)."""
    return load_hub_file(path, SECTIONS)
