"""The room's figures from the configuration reach the parts that use them: the weekly
SNP cap (search, booking warnings, billing), the answering target (monthly report),
the call-back delays (reminders)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.callback.billing import billing_hint
from app.callback.hub import handlers_of
from app.callback.settings import load_settings
from app.config.settings import HubSettings, TargetSettings
from app.db.types import utcnow
from app.hub.server import Hub
from tests.core.test_hub_ws import logged_client
from tests.directory.builders import doctor, slot

ROOM = HubSettings(
    targets=TargetSettings(answered=0.95, weekly_snp_cap=1),
    sections=(replace(load_settings(), retry_delay=timedelta(minutes=42)),),
)


@pytest.fixture
async def room_hub(db_url: str, sessions: sessionmaker[Session]) -> AsyncIterator[Hub]:
    hub = Hub(db_url, "127.0.0.1", 0, settings=ROOM)
    await hub.start()
    yield hub
    await hub.stop()


async def test_cap_and_target_come_from_the_settings(
    room_hub: Hub, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000301", "Chauvet")
        first = slot(s, e, utcnow() + timedelta(hours=5), minutes=60, capacity=2)
    osnp = await logged_client(room_hub, "osnp")
    found = (await osnp.request("directory.search", commune_insee="17300"))["search"]
    assert found["weekly_cap"] == 1
    booked = await osnp.request("slot.book", slot_id=first.id)
    assert booked["weekly_cap"] == 1
    assert any("plafond hebdomadaire atteint : 1 patients" in w for w in booked["warnings"])
    sup = await logged_client(room_hub, "sup")
    report = (await sup.request("stats.report", month=utcnow().strftime("%Y-%m")))["report"]
    assert any("objectif 95,0 %" in line for line in report["summary"])
    handlers = handlers_of(room_hub.service)
    assert handlers is not None
    assert handlers.settings.retry_delay == timedelta(minutes=42)
    assert handlers.settings.weekly_cap == 1
    await osnp.close()
    await sup.close()


async def test_the_report_names_sectors_from_the_rooms_territory_file(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from app.config.settings import TerritorySettings
    from app.db.models import Commune

    territory = tmp_path / "territoire.json"
    territory.write_text(
        json.dumps(
            {
                "communes": [],
                "sectors": [{"code": "CPTS-AUNIS", "name": "CPTS Aunis Sud (fichier de la salle)"}],
            }
        )
    )
    with sessions.begin() as s:
        s.add(Commune(insee="17300", name="La Rochelle", postal_codes="17000", sector="CPTS-AUNIS"))
    hub = Hub(
        db_url, "127.0.0.1", 0, settings=HubSettings(territory=TerritorySettings(file=territory))
    )
    await hub.start()
    try:
        sup = await logged_client(hub, "sup")
        report = (await sup.request("stats.report", month=utcnow().strftime("%Y-%m")))["report"]
        cells = json.dumps(report["tables"], ensure_ascii=False)
        assert "CPTS Aunis Sud (fichier de la salle)" in cells
        await sup.close()
    finally:
        await hub.stop()


def test_billing_uses_the_cap_it_is_given() -> None:
    from app.callback.billing import Appointment

    now = utcnow()
    ap = Appointment(
        at=now + timedelta(hours=3),
        regulated_at=now,
        consultation_type="cabinet",
        is_treating_doctor=False,
    )
    assert billing_hint(ap, 6, 5)["lines"][0]["applies"] is False
    assert billing_hint(ap, 6)["lines"][0]["applies"] is True  # national cap: 20
