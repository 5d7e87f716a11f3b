"""Where the files sasdesk reads at run time are: one place for a checkout and a frozen build.

From a checkout (or an editable install) ``resources/`` sits next to the ``app``
package. A PyInstaller build unpacks the bundle into ``sys._MEIPASS`` and the installer
copies ``resources/`` there; a Nuitka standalone build keeps it next to the executable.
``SASDESK_RESOURCES`` overrides both (tests, a room's own scenario files). What sasdesk
writes for its user goes to ``data_dir()``; the desk finds it here without loading the
database layer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "sasdesk"


def data_dir() -> Path:
    """The user's own data: the embedded database, the desk's journals and recordings."""
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url() -> str:
    """The embedded database (SQLite in the data directory): named here, so that the
    command line's options and the desk need not load the database layer to say it."""
    return f"sqlite:///{data_dir() / 'sasdesk.sqlite3'}"


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
