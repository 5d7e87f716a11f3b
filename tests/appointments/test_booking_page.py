"""The booking page address « Réserver » opens: the editor's, with origin=sas only."""

from __future__ import annotations

import pytest

from app.directory.booking_page import booking_page


def test_origin_is_added_and_the_editors_own_parameters_kept() -> None:
    url = booking_page("https://agenda.editeur.test/rdv/123?praticien=810100050075")
    assert url == "https://agenda.editeur.test/rdv/123?praticien=810100050075&origin=sas"


def test_an_origin_left_by_the_editor_is_replaced() -> None:
    assert booking_page("https://e.test/p?origin=web&x=1") == "https://e.test/p?x=1&origin=sas"


@pytest.mark.parametrize(
    "comment",
    [
        "",
        "Appeler le secrétariat avant 10 h",
        "ftp://e.test/x",
        "https:///nohost",
        "javascript:alert(1)",
    ],
)
def test_a_comment_that_is_no_booking_page(comment: str) -> None:
    assert booking_page(comment) is None
