"""A health professional's national identifier, as PSC names it (``SubjectNameID``)."""

from __future__ import annotations

import re

#: 8 + the 11-digit RPPS number, or 0 + the 9-digit ADELI number.
PATTERN = re.compile(r"^(8[0-9]{11}|0[0-9]{9})$")


class BadNationalId(ValueError):
    """Why the text is not a national identifier (French, for the desk or the admin)."""


def check_national_id(text: str) -> str:
    """The identifier, spaces removed; BadNationalId says what is wrong."""
    value = re.sub(r"\s", "", text)
    if PATTERN.match(value):
        return value
    if value.isdigit() and len(value) == 11:
        raise BadNationalId(
            f"« {value} » ressemble à un numéro RPPS sans son préfixe : saisissez 8{value}"
        )
    raise BadNationalId(
        f"identifiant national « {value[:32]} » invalide : attendu 8 suivi des 11 chiffres "
        "du RPPS (12 chiffres), ou 0 suivi des 9 chiffres de l'ADELI"
    )
