"""The one list both frozen builds (Linux and Windows PyInstaller specs) are made from.

Each spec adds only what is specific to its platform (icon format, PortAudio's
location). tests/installer/test_specs.py evaluates both specs and fails when their
entry points, bundled files, hidden imports or metadata differ, or when a directory
the program reads at run time is missing from this list.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Executables: (name, script, console). ``sasdesk`` is the command line (hub, desk,
#: users, bench...); ``sasdesk-desk`` starts the desk without a console window on
#: Windows (the Start-menu shortcut) and is the same program on Linux.
ENTRY_POINTS: tuple[tuple[str, str, bool], ...] = (
    ("sasdesk", "installer/entry/sasdesk.py", True),
    ("sasdesk-desk", "installer/entry/sasdesk_desk.py", False),
)

#: Files read at run time: (source relative to the repository, directory in the bundle).
DATAS: tuple[tuple[str, str], ...] = (
    ("resources", "resources"),
    ("app/db/migrations", "app/db/migrations"),  # Alembic reads the scripts as files
    ("telephony/kamailio/kamailio.cfg", "telephony/kamailio"),
)

#: Our packages: every submodule is bundled, since the CLI commands are imported by
#: name (app.cli.COMMANDS).
OWN_PACKAGES: tuple[str, ...] = ("app", "ui", "telephony")

#: Modules only reached through a string: SQLAlchemy dialects chosen by the URL,
#: psycopg's compiled speed-ups, what the Alembic migration scripts import.
HIDDEN_IMPORTS: tuple[str, ...] = (
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
    "psycopg_binary",
    "alembic.op",
    "alembic.context",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
    "logging.config",
)

#: Distributions whose metadata is read at run time (``sasdesk --version`` reads ours).
METADATA: tuple[str, ...] = ("sasdesk",)

#: Never bundled: the test suite and GUI toolkits we do not use. (Pillow stays:
#: reportlab imports it at module level.)
EXCLUDES: tuple[str, ...] = (
    "tests",
    "tkinter",
    "pytest",
    "hypothesis",
    "mypy",
    "pyVoIP",
)

#: Qt plugins: the window systems the desk runs on (X11 and Windows, plus offscreen
#: for headless checks); the rest of the plugins/platforms directory is dropped, and so
#: are whole plugin directories nothing of ours uses.
QT_PLATFORMS: tuple[str, ...] = ("xcb", "offscreen", "windows")
QT_PLUGIN_DIRS_DROPPED: tuple[str, ...] = (
    "egldeviceintegrations",
    "generic",
    "networkinformation",
    "platformthemes",
    "wayland-decoration-client",
    "wayland-graphics-integration-client",
    "wayland-shell-integration",
)
#: Qt libraries only the dropped plugins (Wayland, EGLFS) link to.
QT_LIBS_DROPPED: tuple[str, ...] = (
    "Qt6EglFSDeviceIntegration",
    "Qt6EglFsKmsSupport",
    "Qt6WaylandClient",
    "Qt6WlShellIntegration",
)
#: Qt's own translations (standard buttons, dialogs): French only.
QT_LANGUAGES: tuple[str, ...] = ("fr",)


def keep(dest: str) -> bool:
    """False for a Qt plugin or translation the build leaves out (dest: path in bundle)."""
    parts = dest.replace("\\", "/").split("/")
    if "plugins" in parts:
        rest = parts[parts.index("plugins") + 1 :]
        if rest and rest[0] in QT_PLUGIN_DIRS_DROPPED:
            return False
        if len(rest) == 2 and rest[0] == "platforms":
            stem = rest[1].split(".")[0].removeprefix("lib")
            return stem.removeprefix("q") in QT_PLATFORMS
    if any(parts[-1].removeprefix("lib").startswith(lib + ".") for lib in QT_LIBS_DROPPED):
        return False
    if "translations" in parts and parts[-1].endswith(".qm"):
        language = parts[-1].removesuffix(".qm").split("_", 1)[-1]
        return language.split("_")[0] in QT_LANGUAGES
    return True


def prune(toc: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """A PyInstaller TOC (binaries or datas) without what ``keep`` refuses."""
    return [entry for entry in toc if keep(entry[0])]


def datas() -> list[tuple[str, str]]:
    """DATAS with absolute sources, as PyInstaller's Analysis wants them."""
    return [(str(ROOT / src), dest) for src, dest in DATAS]


def scripts() -> list[str]:
    return [str(ROOT / script) for _name, script, _console in ENTRY_POINTS]


def own_modules() -> list[str]:
    """Every module of OWN_PACKAGES, found from the source tree (nothing imported)."""
    found: list[str] = []
    for package in OWN_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts:  # read as files by Alembic (DATAS), not imported
                continue
            if parts[-1] == "__init__":
                parts.pop()
            found.append(".".join(parts))
    return found


def hidden_imports() -> list[str]:
    return sorted(set(own_modules()) | set(HIDDEN_IMPORTS))


def metadata() -> list[tuple[str, str]]:
    from PyInstaller.utils.hooks import copy_metadata

    collected: list[tuple[str, str]] = []
    for dist in METADATA:
        collected += copy_metadata(dist)
    return collected
