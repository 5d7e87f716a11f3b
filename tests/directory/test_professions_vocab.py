"""The professions vocabulary reads what the RPPS extraction and the desks write."""

from __future__ import annotations

import pytest

from app.domain.professions import (
    GENERAL,
    UnknownCode,
    Wanted,
    parse_wanted,
    profession_code,
    specialty_code,
    wanted_label,
    wanted_of_effecteur,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("10", "10"),
        ("Médecin", "10"),
        ("Infirmier", "60"),
        ("infirmière", "60"),
        ("Sage-Femme", "50"),
        ("Chirurgien-Dentiste", "40"),
        ("Masseur-Kinésithérapeute", "70"),
        ("Pharmacien", "21"),
        ("Plombier", None),
    ],
)
def test_profession_codes_from_codes_and_rpps_labels(text: str, code: str | None) -> None:
    assert profession_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SM40", "SM40"),
        ("Pédiatrie", "SM40"),
        ("Médecine Générale", "SM54"),
        ("Qualifié en Médecine Générale", "SM54"),
        ("SM26", "SM54"),
        ("ophtalmologue", "SM38"),
        ("Psychiatrie", "SM42"),
        ("Chirurgie de la main", None),
    ],
)
def test_specialty_codes_from_codes_and_rpps_labels(text: str, code: str | None) -> None:
    assert specialty_code(text) == code


def test_what_a_decision_may_ask_for() -> None:
    assert parse_wanted(None, None) == GENERAL
    assert parse_wanted(None, "SM40") == Wanted("10", "SM40")
    assert parse_wanted("60", None) == Wanted("60", "")
    assert parse_wanted("10", None) == GENERAL
    with pytest.raises(UnknownCode, match="ne s'applique pas"):
        parse_wanted("50", "SM40")
    assert wanted_label("60", "") == "Infirmier"
    assert wanted_label("10", "SM57") == "Médecin (Allergologie)"
    # The directory's effecteurs: a nurse has no medical specialty whatever is written.
    assert wanted_of_effecteur("Infirmier", "Médecine générale") == Wanted("60", "")
    assert wanted_of_effecteur("Médecin", "Pédiatrie") == Wanted("10", "SM40")
