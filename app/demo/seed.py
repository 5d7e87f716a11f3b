"""Load the demo territory and accounts into an empty database (first run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Commune, Setting, User
from app.db.types import utcnow
from app.domain.enums import Role
from app.hub.auth import create_user, verify_password
from app.hub.payloads import DemoAccount
from app.resources import resources_dir

RESOURCES = resources_dir()
TERRITORY = RESOURCES / "demo" / "territory.json"
DEMO_PASSWORD = "demo"

#: (username, display name, role): one or two desks per role, fictional people.
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("arm1", "Léa Marchand", Role.ARM_N1),
    ("arm2", "Hugo Ferrand", Role.ARM_N1),
    ("armn2", "Inès Caradec", Role.ARM_N2),
    ("amu", "Dr Paul Lemarié", Role.MEDECIN_AMU),
    ("mrl", "Dr Claire Vasseur", Role.MRL),
    ("osnp", "Julie Renaudin", Role.OSNP),
    ("superviseur", "Marc Delorme", Role.SUPERVISEUR),
    ("cpts", "Nadia Ferreira", Role.GESTIONNAIRE_CPTS),
)


def load_territory(path: Path = TERRITORY) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def is_demo(session: Session) -> bool:
    return session.get(Setting, "demo") is not None


def seed_demo(session: Session, territory_path: Path = TERRITORY) -> bool:
    """Idempotent: seeds only a database that has no users yet. Returns True if seeded."""
    if session.scalar(select(User.id).limit(1)) is not None:
        return False
    for username, name, role in DEMO_USERS:
        create_user(session, username, name, role, DEMO_PASSWORD)
    territory = load_territory(territory_path)
    for c in territory.get("communes", []):
        session.add(
            Commune(
                insee=c["insee"],
                name=c["name"],
                postal_codes=" ".join(c.get("postal_codes", [])),
                sector=c.get("sector", ""),
                lat=c.get("lat"),
                lon=c.get("lon"),
            )
        )
    session.add(Setting(key="demo", value=territory.get("name", "démo")))
    session.flush()
    # The care offer: effecteurs, practices, structures and their slots for 72 h.
    from app.directory.demo import seed_directory_demo

    seed_directory_demo(session, territory, utcnow())
    return True


class DemoAccounts:
    """The demo accounts whose password is still the demo one (for the welcome frame).

    A hub started with ``--demo`` advertises them so that a trainee can log in; an
    account whose password was changed, or that was disabled, is no longer listed.
    Each password hash is checked once (argon2 is slow on purpose), then remembered.
    """

    def __init__(self) -> None:
        self._checked: dict[str, bool] = {}

    def current(self, session: Session) -> list[DemoAccount]:
        known = {u for u, _, _ in DEMO_USERS}
        users = session.scalars(
            select(User).where(User.username.in_(known), User.active).order_by(User.id)
        )
        out: list[DemoAccount] = []
        for u in users:
            if u.password_hash not in self._checked:
                self._checked[u.password_hash] = verify_password(u.password_hash, DEMO_PASSWORD)
            if self._checked[u.password_hash]:
                out.append(
                    {
                        "username": u.username,
                        "name": u.display_name,
                        "role": u.role,
                        "password": DEMO_PASSWORD,
                    }
                )
        return out


class Demo:
    """The training room a hub started with ``--demo`` serves (``app.hub.server.RoomDemo``).

    The command line builds it and hands it to the hub, which seeds it once its schema is
    up and lists its accounts in every welcome frame; the kernel itself knows no demo.
    """

    def __init__(self) -> None:
        self._accounts = DemoAccounts()

    def seed(self, session: Session, territory: Path | None) -> bool:
        return seed_demo(session, territory or TERRITORY)

    def accounts(self, session: Session) -> list[DemoAccount]:
        return self._accounts.current(session)
