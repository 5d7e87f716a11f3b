"""A desk's own settings: which hub, which SIP account, which headset.

Two layers, read in this order (platformdirs decides where they live):

- per machine, ``desk.toml`` in the system configuration folder (Linux:
  ``/etc/xdg/sasdesk/desk.toml``), written by the room's IT, read-only for users;
- per user, ``desk.json`` in the user's configuration folder, written by the desk's
  first-run wizard; its values win.

The SIP password is in neither: it lives in the operating system's keyring
(``keyring``), under the service ``sasdesk-sip`` and the name ``user@server``. The
environment variable SASDESK_SIP_PASSWORD, when set, is used instead (headless desks,
tests); it is never taken from a command line.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from app.config.tomlfile import FileError, FileProblem, line_of, read_toml

KEYRING_SERVICE = "sasdesk-sip"
PASSWORD_ENV = "SASDESK_SIP_PASSWORD"


def split_hubs(text: str) -> list[str]:
    """Hub addresses separated by commas or spaces (several hubs share one database;
    the desk fails over from one to the next)."""
    return [u for u in text.replace(",", " ").split() if u]


@dataclass(frozen=True)
class DeskSettings:
    #: One hub address, or several separated by commas.
    hub_url: str = ""
    #: CA file the hub's certificate must chain to (else system store, then pinning).
    ca_file: str = ""
    sip_server: str = ""
    sip_port: int = 5060
    sip_user: str = ""
    sip_domain: str = ""
    #: False: this desk has no headset (a supervisor's desk); the line uses no audio.
    use_headset: bool = True
    #: The last account that logged in here (pre-filled at the login step).
    last_username: str = ""
    #: The national identifier (RPPS…) last proven with Pro Santé Connect by this
    #: system user on this PC (pre-filled in the login dialog's PSC tab).
    last_national_id: str = ""

    @property
    def hub_urls(self) -> list[str]:
        return split_hubs(self.hub_url)

    @property
    def configured(self) -> bool:
        return bool(self.hub_url)

    @property
    def has_sip(self) -> bool:
        return bool(self.sip_server and self.sip_user)


def machine_file() -> Path:
    return Path(platformdirs.site_config_dir("sasdesk", appauthor=False)) / "desk.toml"


def user_file() -> Path:
    return Path(platformdirs.user_config_dir("sasdesk", appauthor=False)) / "desk.json"


_TYPES = {f.name: f.type for f in fields(DeskSettings)}


def _checked(data: dict[str, Any], path: Path, lines: list[str] | None) -> dict[str, Any]:
    problems = []
    out: dict[str, Any] = {}
    for key, value in data.items():
        wanted = {"str": str, "int": int, "bool": bool}.get(str(_TYPES.get(key)))
        line = line_of(lines, key) if lines is not None else None
        if wanted is None:
            problems.append(
                FileProblem(
                    path, line, f"clé inconnue « {key} » (clés connues : {', '.join(_TYPES)})"
                )
            )
        elif not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            problems.append(FileProblem(path, line, f"{key} : valeur de type inattendu"))
        else:
            out[key] = value
    if problems:
        raise FileError(problems)
    return out


def load_desk_settings(machine: Path | None = None, user: Path | None = None) -> DeskSettings:
    """The machine's settings with the user's over them; FileError for a wrong file."""
    machine, user = machine or machine_file(), user or user_file()
    settings = DeskSettings()
    if machine.exists():
        data, lines = read_toml(machine)
        settings = replace(settings, **_checked(data, machine, lines))
    if user.exists():
        settings = replace(settings, **_checked(_read_user(user), user, None))
    return settings


def _read_user(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileError([FileProblem(path, None, f"illisible ({exc})")]) from None
    if not isinstance(data, dict):
        raise FileError([FileProblem(path, None, "un objet JSON est attendu")])
    return data


def save_user_settings(settings: DeskSettings, user: Path | None = None) -> Path:
    """Write the user's layer atomically (the wizard's answers)."""
    path = user or user_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def remember(user: Path | None = None, **values: str) -> Path:
    """Set a few keys of the user's layer only (what the desk remembers after a login),
    leaving the rest of that file, and the machine's layer, as they are."""
    path = user or user_file()
    current = _read_user(path) if path.exists() else {}
    current.update(_checked(values, path, None))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _account(settings: DeskSettings) -> str:
    return f"{settings.sip_user}@{settings.sip_server}"


def sip_password(settings: DeskSettings) -> str:
    """The SIP password: $SASDESK_SIP_PASSWORD if set, else the keyring ("" if none)."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, _account(settings)) or ""
    except KeyringError:
        return ""


def store_sip_password(settings: DeskSettings, password: str) -> None:
    """Into the OS keyring; KeyringError (French message by the caller) if there is none."""
    import keyring

    keyring.set_password(KEYRING_SERVICE, _account(settings), password)
