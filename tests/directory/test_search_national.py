"""The national directory in the search: everyone is found as treating doctor or
confrère; the map lists whom the SAS can offer; the SQL baseline agrees."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.directory.baseline import baseline_search
from app.directory.engine import DirectoryIndex
from app.directory.imports.rpps import import_rpps
from app.directory.models import Effecteur, Slot, bump_revision
from app.directory.query import TIER_CONFRERE, TIER_MT, TIER_NONE, TIER_OTHER, SearchQuery
from tests.directory.conftest import NOW
from tests.directory.rpps_files import at, person, write

PALAIS = at("17300", "17000", "La Rochelle", "R1", "DU PALAIS")
NURSE = {"Code profession": "60", "Libellé profession": "Infirmier", "Code savoir-faire": "",
         "Libellé savoir-faire": ""}  # fmt: skip


def national(sessions: sessionmaker[Session], tmp_path: Path) -> dict[str, int]:
    rows = [
        person("10000000001", "MOINARD", "Anne", **PALAIS),
        person(
            "10000000002",
            "BERGER",
            "Paul",
            **{**PALAIS, "Identifiant technique de la structure": "R2"},
        ),  # fmt: skip
        person(
            "10000000003", "PETIT", "Léa", **at("17300", "17000", "La Rochelle", "R3"), **NURSE
        ),  # fmt: skip
    ]
    report = import_rpps(sessions, write(tmp_path / "a.txt", rows), now=NOW, professions=None)
    assert report.created == 3
    with sessions() as s:
        return {e.rpps: e.id for e in s.scalars(select(Effecteur))}


def ranked(
    index: DirectoryIndex, sessions: sessionmaker[Session], q: SearchQuery
) -> list[tuple[int, int]]:
    with sessions() as s:
        index.sync(s, NOW)
        ours = [(d.effecteur_id, d.tier, d.earliest) for d in index.search(q, NOW).doctors]
        assert ours == baseline_search(s, q, NOW)  # same candidates, same ranking
    return [(d[0], d[1]) for d in ours]


def test_national_rows_in_the_search(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    ids = national(sessions, tmp_path)
    index = DirectoryIndex()
    near = SearchQuery(commune_insee="17300")
    # Nobody takes part yet: the map lists nobody...
    assert ranked(index, sessions, near) == []
    # ...but the treating doctor and her confrère of the same address are found.
    mt = SearchQuery(commune_insee="17300", treating_doctor="Dr Anne Moinard")
    assert ranked(index, sessions, mt) == [
        (ids["10000000001"], TIER_MT), (ids["10000000002"], TIER_CONFRERE)]  # fmt: skip
    # The nurse is not even held by the index until she publishes a slot.
    assert ids["10000000003"] not in index.doctors
    with sessions.begin() as s:
        rev = bump_revision(s)
        s.add(Slot(effecteur_id=ids["10000000003"], start=NOW + timedelta(hours=2),
                   end=NOW + timedelta(hours=2, minutes=15), rev=rev))  # fmt: skip
        s.execute(
            update(Effecteur)
            .where(Effecteur.id == ids["10000000002"])
            .values(sas_participant=True, rev=rev)
        )
    assert ranked(index, sessions, near) == [
        (ids["10000000003"], TIER_OTHER), (ids["10000000002"], TIER_NONE)]  # fmt: skip
    # A participant without a slot is listed, after those with one.
    # A fresh index (a hub restart) holds the same.
    assert ranked(DirectoryIndex(), sessions, near) == ranked(index, sessions, near)
