"""Where the files sasdesk reads at run time are: one place for a checkout and a frozen build.

From a checkout (or an editable install) ``resources/`` sits next to the ``app``
package. A PyInstaller build unpacks the bundle into ``sys._MEIPASS`` and the installer
copies ``resources/`` there; a Nuitka standalone build keeps it next to the executable.
``SASDESK_RESOURCES`` overrides both (tests, a room's own scenario files).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def bundle_root() -> Path:
    """The directory holding ``resources/``: the frozen bundle, or the checkout."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent))
    return Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    env = os.environ.get("SASDESK_RESOURCES")
    if env:
        return Path(env)
    return bundle_root() / "resources"


def resource(*parts: str) -> Path:
    """A path under ``resources/``, e.g. ``resource("style", "desk.qss")``."""
    return resources_dir().joinpath(*parts)
