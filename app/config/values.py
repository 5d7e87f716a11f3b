"""Value parsers for hub.toml keys, shared by the loader and the features' sections.

Each takes the TOML value and the configuration file's folder (relative paths are
taken from there) and returns the typed value, or raises ``Invalid`` with the reason
in French; the loader adds the file, the line, the table and the key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


class Invalid(ValueError):
    """A value's reason, in French (the loader adds file, line and key)."""


Parse = Callable[[Any, Path], Any]


def text(value: Any, _base: Path) -> str:
    if not isinstance(value, str):
        raise Invalid("doit être un texte entre guillemets")
    return value.strip()


def port(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise Invalid("doit être un numéro de port, entier de 0 à 65535, sans guillemets")
    return value


def flag(value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise Invalid("doit valoir true ou false (sans guillemets)")
    return value


def path(value: Any, base: Path) -> Path:
    name = text(value, base)
    if not name:
        raise Invalid("chemin vide")
    return (base / name) if not Path(name).is_absolute() else Path(name)


def file(value: Any, base: Path) -> Path:
    found = path(value, base)
    if not found.is_file():
        raise Invalid(f"fichier introuvable : {found}")
    return found


def minutes(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 1440:
        raise Invalid("doit être un nombre de minutes, de 1 à 1440")
    return float(value)


def known_keys(n: int, editor: dict[str, Any], known: tuple[str, ...]) -> None:
    """An editor's table (the n-th) holds only the keys its section knows."""
    unknown = [k for k in editor if k not in known]
    if unknown:
        raise Invalid(
            f"éditeur n° {n} : clé(s) inconnue(s) {', '.join(unknown)} "
            f"(clés connues : {', '.join(known)})"
        )


def tls_problem(cert: Path | None, key: Path | None, ca: Path | None) -> str:
    """Why a certificate, its key or an authority cannot be used ("" if they can)."""
    import ssl

    try:
        if ca is not None:
            ssl.create_default_context(cafile=str(ca))
        if cert is not None and key is not None:
            ssl.create_default_context().load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        return f"certificat, clé ou autorité inutilisable ({exc})"
    return ""
