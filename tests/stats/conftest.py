from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.hub.auth import Principal
from tests.stats.room import Room


@pytest.fixture
def room(sessions: sessionmaker[Session], people: dict[str, Principal]) -> Room:
    r = Room(sessions, people)
    r.load_communes()
    return r


@pytest.fixture
def room_92(sessions: sessionmaker[Session], people: dict[str, Principal]) -> Room:
    """A room serving the Hauts-de-Seine communes of seed 004 (one sector, "92")."""
    from tests.stats.seed_004_sas92_june import ROWS

    r = Room(sessions, people)
    names: dict[str, str] = {}
    postal_codes: dict[str, list[str]] = {}
    for pc, name, insee, _dec, _seen in ROWS:
        names.setdefault(insee, name)
        postal_codes.setdefault(insee, []).append(pc)
    r.load_communes(
        [
            {"insee": insee, "name": name, "postal_codes": postal_codes[insee], "sector": "92"}
            for insee, name in names.items()
        ]
    )
    return r
