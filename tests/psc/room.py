"""The room with Pro Santé Connect that the hub's and the desk's PSC tests share: the
professionals' national identifiers, the test accounts that carry them, and the room's
PSC settings pointed at the PSC double on loopback (app/bench/psc_double.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.bench.psc_double import PscDouble
from app.db.models import User
from app.psc.settings import Policy, PscSettings

MRL_ID = "810001234567"
AMU_ID = "810009876543"
NURSE_ID = "800000000602"  # mrl2's identifier, but PSC says a nurse holds it
STRANGER_ID = "899999999999"  # PSC knows them; no account here
#: The room's policy: its MRLs must prove their identity with PSC, AMU doctors may.
ROLES = {"MRL": Policy.MUST, "MEDECIN_AMU": Policy.MAY}


def psc_settings(double: PscDouble, **kw: Any) -> PscSettings:
    """The room's PSC settings against ``double``, with waits short enough for tests."""
    return PscSettings(
        discovery_url=double.discovery_url,
        client_id=double.client_id,
        client_secret=double.client_secret,
        poll_floor_s=0.02,
        slow_down_s=0.05,
        timeout_s=2.0,
        **kw,
    )


def with_ids(sessions: sessionmaker[Session]) -> None:
    """The national identifiers on the test accounts mrl, amu and mrl2."""
    with sessions.begin() as s:
        for username, nid in (("mrl", MRL_ID), ("amu", AMU_ID), ("mrl2", NURSE_ID)):
            s.execute(update(User).where(User.username == username).values(national_id=nid))
