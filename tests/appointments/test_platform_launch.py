"""``appointment.platform_search``: the national platform's search for a dossier, built
by the hub from the room's ``[plateforme_sas]`` and the directory (the desk's
Ctrl+Maj+S), an audited read refused to whoever may not see the dossier."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.search_launch import split_street
from app.appointments.settings import PlatformSettings
from app.cli.sections import load_hub_config
from app.config.settings import HubSettings
from app.db.audit import AuditRead
from app.domain.rules import FlowError
from app.hub.auth import Principal
from app.hub.extensions import install_all
from app.hub.service import FlowService
from tests.core.flow_helpers import ORIENT_48H, Actor, snp_dossier
from tests.directory.builders import doctor

PLATFORM = PlatformSettings(url="https://sas.test", origin="urn:oid:1.2.250.1.999.17")
INTENT = "appointment.platform_search"


def _desks(
    sessions: sessionmaker[Session], people: dict[str, Principal], settings: HubSettings
) -> dict[str, Actor]:
    service = FlowService(sessions, settings=settings)
    install_all(service)
    return {n: Actor(service, people[n]) for n in ("n1", "mrl", "osnp", "n1b")}


def _query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sas.test", "/sas/recherche")
    return parse_qs(parts.query)


def test_the_dossier_travels_with_the_doctor_the_directory_names(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    desks = _desks(sessions, people, HubSettings(sections=(PLATFORM,)))
    with sessions.begin() as s:
        doctor(s, "10000000777", "Lefèvre", first="Anne")
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    desks["mrl"].send(
        "dossier.update",
        dossier_id=dossier_id,
        fields={"treating_doctor": "Dr LEFEVRE", "address": "12 bis rue des Lilas\n2e étage",
                "commune_name": "La Rochelle"},
    )  # fmt: skip
    desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
    reply = desks["mrl"].send(INTENT, dossier_id=dossier_id)
    assert _query(reply["url"]) == {
        "origin": ["urn:oid:1.2.250.1.999.17"],
        "practitioner": ["urn:oid:1.2.250.1.71.4.2.1|810000000777"],
        "specialty": ["Médecin généraliste"],
        "streetnumber": ["12 bis"],
        "streetname": ["rue des Lilas"],
        "inseecode": ["17300"],
        "city": ["La Rochelle"],
    }
    assert reply["notes"] == []
    with sessions() as s:
        reads = s.scalars(select(AuditRead).where(AuditRead.dossier_id == dossier_id)).all()
    assert [(r.intent, r.granted) for r in reads if r.intent == INTENT] == [(INTENT, True)]


def test_an_rpps_written_in_the_dossier_is_taken_a_doubtful_name_is_left_out(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    desks = _desks(sessions, people, HubSettings(sections=(PLATFORM,)))
    with sessions.begin() as s:
        doctor(s, "10000000701", "Martin", first="Paul")
        doctor(s, "10000000702", "Martin", first="Marie")
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    update = {"dossier_id": dossier_id}
    desks["mrl"].send("dossier.update", **update, fields={"treating_doctor": "Dr Martin"})
    reply = desks["mrl"].send(INTENT, dossier_id=dossier_id)
    assert "practitioner" not in _query(reply["url"])
    assert reply["notes"] == [
        "plusieurs médecins répondent à « Dr Martin » : recherche sans médecin traitant"
    ]
    desks["mrl"].send("dossier.update", **update, fields={"treating_doctor": "Dr Marie Martin"})
    reply = desks["mrl"].send(INTENT, dossier_id=dossier_id)
    assert _query(reply["url"])["practitioner"] == ["urn:oid:1.2.250.1.71.4.2.1|810000000702"]
    desks["mrl"].send("dossier.update", **update, fields={"treating_doctor": "MT 10000000999"})
    reply = desks["mrl"].send(INTENT, dossier_id=dossier_id)
    assert _query(reply["url"])["practitioner"] == ["urn:oid:1.2.250.1.71.4.2.1|810000000999"]


def test_unconfigured_or_not_visible_is_refused_and_the_refusal_audited(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    desks = _desks(sessions, people, HubSettings())
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    err = desks["mrl"].refused(INTENT, dossier_id=dossier_id)
    assert err.code == "invalid_state" and "[plateforme_sas]" in str(err)
    desks = _desks(sessions, people, HubSettings(sections=(PLATFORM,)))
    # Another N1 may not see a dossier taken by the MRL; the answer says no more than
    # "not found" (the same as for a dossier that does not exist).
    other = desks["n1b"].refused(INTENT, dossier_id=dossier_id)
    missing = desks["n1b"].refused(INTENT, dossier_id=dossier_id + 1000)
    assert isinstance(other, FlowError) and other.code == missing.code == "not_found"
    assert str(other).replace(str(dossier_id), "N") == str(missing).replace(
        str(dossier_id + 1000), "N"
    )
    with sessions() as s:
        refused = s.scalars(
            select(AuditRead).where(AuditRead.intent == INTENT, AuditRead.granted.is_(False))
        ).all()
    assert dossier_id in {r.dossier_id for r in refused}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("12 bis rue des Lilas", ("12 bis", "rue des Lilas")),
        ("3, avenue Foch", ("3", "avenue Foch")),
        ("Lieu-dit La Grange", ("", "Lieu-dit La Grange")),
        ("", ("", "")),
        ("4B chemin Vert\nBât. C", ("4B", "chemin Vert")),
    ],
)
def test_the_address_splits_into_number_and_street(address: str, expected: tuple[str, str]) -> None:
    assert split_street(address) == expected


def test_hub_toml_section_is_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "hub.toml"
    good.write_text('[plateforme_sas]\nurl = "https://sas.sante.fr/"\norigine = "LRM-17"\n')
    assert load_hub_config(good).section(PlatformSettings) == PlatformSettings(
        "https://sas.sante.fr", "LRM-17"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[plateforme_sas]\nurl = "ftp://sas"\n')
    with pytest.raises(Exception) as caught:
        load_hub_config(bad)
    said = str(caught.value)
    assert "origine manquant" in said and "[plateforme_sas] url" in said
