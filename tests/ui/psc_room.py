"""A room with Pro Santé Connect for the desk tests: the hub engineer's PSC double on
loopback (its own keys, CIBA, both grants, userinfo) and a real embedded hub set to use it,
with national identifiers on the test accounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.bench.psc_double import Person, PscDouble
from app.config.settings import HubSettings
from app.db.models import User
from app.psc.settings import Policy, PscSettings
from app.room.embedded import EmbeddedHub

MRL_ID = "810001234567"
AMU_ID = "810009876543"
NURSE_ID = "800000000602"  # mrl2's identifier, but PSC says a nurse holds it
STRANGER_ID = "899999999999"  # PSC knows them; no account here
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


def with_ids(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for username, nid in (("mrl", MRL_ID), ("amu", AMU_ID), ("mrl2", NURSE_ID)):
            s.execute(update(User).where(User.username == username).values(national_id=nid))


@contextmanager
def psc_hub(
    db_url: str, sessions: sessionmaker[Session], double: PscDouble, **psc: Any
) -> Iterator[str]:
    """An embedded hub whose room requires PSC of its MRLs and allows it to AMU doctors."""
    with_ids(sessions)
    settings = PscSettings(
        discovery_url=double.discovery_url,
        client_id=double.client_id,
        client_secret=double.client_secret,
        poll_floor_s=0.02,
        slow_down_s=0.05,
        timeout_s=2.0,
        roles={"MRL": Policy.MUST, "MEDECIN_AMU": Policy.MAY},
        **psc,
    )
    hub = EmbeddedHub(db_url, settings=HubSettings(psc=settings))
    try:
        yield hub.start()
    finally:
        hub.stop()
