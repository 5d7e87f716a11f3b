"""A room with Pro Santé Connect for the desk tests: the hub engineer's PSC double on
loopback (its own keys, CIBA, both grants, userinfo) and a real embedded hub set to use it,
with national identifiers on the test accounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.bench.psc_double import Person, PscDouble
from app.config.settings import HubSettings
from app.room.embedded import EmbeddedHub
from tests.psc.room import (
    AMU_ID,
    MRL_ID,
    NURSE_ID,
    ROLES,
    STRANGER_ID,
    psc_settings,
    with_ids,
)

__all__ = [
    "AMU_ID",
    "FOREVER",
    "MRL_ID",
    "NURSE_ID",
    "STRANGER_ID",
    "approve",
    "psc_double",
    "psc_hub",
]

#: A wait the test ends itself: PSC answers "pending" until the test says otherwise.
FOREVER = 10**9


def psc_double() -> PscDouble:
    double = PscDouble(interval=0).start()
    double.add(Person(MRL_ID, pending_polls=FOREVER))
    double.add(Person(AMU_ID, family_name="DURAND", pending_polls=FOREVER))
    double.add(Person(NURSE_ID, profession="60", pending_polls=0))
    double.add(Person(STRANGER_ID, pending_polls=0))
    return double


def approve(double: PscDouble, national_id: str) -> None:
    """The professional validates the code on their phone: the next poll is answered."""
    double.people[national_id].pending_polls = 0


@contextmanager
def psc_hub(
    db_url: str, sessions: sessionmaker[Session], double: PscDouble, **psc: Any
) -> Iterator[str]:
    """An embedded hub whose room requires PSC of its MRLs and allows it to AMU doctors."""
    with_ids(sessions)
    settings = psc_settings(double, roles=ROLES, **psc)
    hub = EmbeddedHub(db_url, settings=HubSettings(psc=settings))
    try:
        yield hub.start()
    finally:
        hub.stop()
