"""The doctor's card in French, from a real search reply."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.directory.engine import DirectoryIndex
from app.directory.presenter import NO_SLOT, card
from app.directory.query import SearchQuery
from tests.directory.builders import doctor, slot
from tests.directory.conftest import NOW


def test_card_shows_ranges_days_badges_and_phones(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000401", "Moreau", first="Anne", agenda_level="visibility", beyond=True)
        e.conditions = "M'appeler avant chaque consultation"
        # Monday 23 Nov, 17h45 Paris: a range of 5; Tuesday 9h30 a teleconsultation.
        slot(s, e, NOW + timedelta(hours=7, minutes=45), minutes=75, capacity=5)
        slot(s, e, NOW + timedelta(hours=23, minutes=30), type_="teleconsultation")
    index = DirectoryIndex()
    with sessions() as s:
        index.sync(s, NOW)
    (hit,) = index.search(SearchQuery(commune_insee="17300"), NOW).doctors
    hit.weekly_snp = 20
    c = card(hit.to_dict(), NOW)
    assert c.title == "Dr Anne Moreau"
    assert c.badges == [
        "Participant SAS",
        "Individuel",
        "Appeler pour confirmer",
        "Accepte hors disponibilité",
    ]
    assert c.days[:3] == [
        ("Aujourd'hui Lun 23", ["17h45 - 19h00 · 0/5"]),
        ("Demain Mar 24", ["09h30 · Téléconsultation"]),
        ("Mer 25", [NO_SLOT]),
    ]
    assert c.phones == [("Direct", "0600000000")]
    assert c.conditions == "M'appeler avant chaque consultation"
    assert c.cap == "SNP cette semaine : 20/20" and c.warnings == [
        "plafond hebdomadaire de patients SNP atteint"
    ]
