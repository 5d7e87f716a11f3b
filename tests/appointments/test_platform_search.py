"""The platform's search address built from a dossier: the parameters the page reads."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.appointments.platform_search import SearchContext, platform_search_url


def test_every_known_field_travels_under_the_name_the_page_reads() -> None:
    url = platform_search_url(
        "https://sas.sante.fr/",
        "urn:oid:1.2.250.1.999.1",
        SearchContext(
            treating_doctor_national_id="810100050075",
            specialty="Médecine générale",
            street_number="12",
            street_name="rue des Lilas",
            insee_code="17300",
            city="La Rochelle",
        ),
    )
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("sas.sante.fr", "/sas/recherche")
    assert parse_qs(parts.query) == {
        "origin": ["urn:oid:1.2.250.1.999.1"],
        "practitioner": ["urn:oid:1.2.250.1.71.4.2.1|810100050075"],
        "specialty": ["Médecine générale"],
        "streetnumber": ["12"],
        "streetname": ["rue des Lilas"],
        "inseecode": ["17300"],
        "city": ["La Rochelle"],
    }


def test_what_the_dossier_does_not_know_is_left_out() -> None:
    url = platform_search_url("https://sas.test", "LRM-17", SearchContext(insee_code="17300"))
    assert parse_qs(urlsplit(url).query) == {"origin": ["LRM-17"], "inseecode": ["17300"]}


@pytest.mark.parametrize(("base", "origin"), [("sas.test", "x"), ("https://sas.test", " ")])
def test_a_wrong_configuration_is_said(base: str, origin: str) -> None:
    with pytest.raises(ValueError):
        platform_search_url(base, origin, SearchContext())
