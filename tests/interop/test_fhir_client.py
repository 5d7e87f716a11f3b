"""The FHIR slot client against agenda editors served on 127.0.0.1: a normal one, a
slow one, a failing one and a paged one, pulled by a real hub at start and on a
desk's demand; one slow editor never holds up the others or the desk."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import FhirEditorSettings, FhirSettings, HubSettings
from app.db.types import utcnow
from app.directory.imports.effecteurs import import_effecteurs
from app.directory.models import Slot
from app.interop import fhir_hub
from app.room import Hub
from tests.hub.desks import logged_client
from tests.interop.fhir_server import Editors, fhir_editors
from tests.waits import until

DATA = Path(__file__).parents[1] / "directory" / "data"
SLOW = 6.0  # seconds the slow editor takes
SLOW_TIMEOUT = 1.0  # the slow editor's deadline
TIMEOUT = 5.0  # the others' (generous: the machine may be busy)


@pytest.fixture
def editors() -> Any:
    with fhir_editors(utcnow(), slow_seconds=SLOW) as e:
        yield e


@pytest.fixture
async def fhir_hub_running(
    db_url: str, sessions: sessionmaker[Session], editors: Editors
) -> AsyncIterator[Hub]:
    assert import_effecteurs(sessions, DATA / "effecteurs_latin1.csv").committed
    settings = HubSettings(
        fhir=FhirSettings(
            editors=tuple(
                FhirEditorSettings(
                    name,
                    f"{editors.base}/{name}",
                    timeout_s=SLOW_TIMEOUT if name == "slow" else TIMEOUT,
                    page_size=2,
                )
                for name in ("normal", "slow", "failing", "paged")
            ),  # fmt: skip
            refresh_minutes=60,
        )
    )
    hub = Hub(db_url, "127.0.0.1", 0, settings=settings)
    await hub.start()
    yield hub
    await hub.stop()


async def _pulls_done(hub: Hub) -> None:
    puller = hub.extension(fhir_hub.FhirHub).puller
    assert puller is not None
    await asyncio.gather(*puller.running.values())


def _slots(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str]]:
    with sessions() as s:
        return {
            str(x.source_ref): (x.status, x.consultation_type)
            for x in s.scalars(select(Slot).where(Slot.source == "fhir"))
        }


async def test_hub_pulls_every_editor_each_on_its_own(
    fhir_hub_running: Hub, sessions: sessionmaker[Session], editors: Editors
) -> None:
    hub = fhir_hub_running
    await _pulls_done(hub)
    # The normal editor and the three pages of the paged one, resolved across pages.
    assert _slots(sessions) == {
        "normal:n1": ("open", "cabinet"),
        "normal:n2": ("open", "cabinet"),
        "paged:p1": ("open", "cabinet"),
        "paged:p2": ("open", "cabinet"),
        "paged:p3": ("open", "teleconsultation"),
        "paged:p4": ("open", "cabinet"),
    }
    first = {path: q for path, q in editors.requests if "_page" not in q}
    q = first["/normal/Slot"]
    assert q["status"] == ["free"] and q["_count"] == ["2"]
    assert [v[:2] for v in q["start"]] == ["ge", "le"]
    assert "Slot:schedule" in q["_include"] and "Slot:service-type-reference" in q["_include"]
    assert {"Schedule:actor", "PractitionerRole:practitioner",
            "HealthcareService:organization"} <= set(q["_include:iterate"])  # fmt: skip
    pages = [q.get("_page", ["1"])[0] for path, q in editors.requests if path == "/paged/Slot"]
    assert pages == ["1", "2", "3"]


async def test_refresh_on_demand_is_not_held_up_by_a_slow_or_broken_editor(
    fhir_hub_running: Hub, sessions: sessionmaker[Session], editors: Editors
) -> None:
    hub = fhir_hub_running
    await _pulls_done(hub)
    desk = await logged_client(hub, "osnp")
    seen: list[tuple[float, dict[str, Any]]] = []
    desk.on_event.append(lambda m: seen.append((time.monotonic(), m)))
    editors.normal_slots = ["n1", "n3"]  # n2 was taken elsewhere, n3 is new
    asked = time.monotonic()
    reply = await desk.request("directory.refresh")
    # The desk is answered at once: before even the slow editor's deadline has passed.
    assert not any(m["data"].get("editor") == "slow" for _, m in seen)
    assert reply["refresh"] == {"editors": ["normal", "slow", "failing", "paged"],
                                "started": True}  # fmt: skip
    await until(lambda: len(seen) >= 4, lambda: f"an event per editor (got {seen})", timeout=10)
    by_editor = {m["data"]["editor"]: (at - asked, m) for at, m in seen}
    assert set(by_editor) == {"normal", "slow", "failing", "paged"}
    delay, normal = by_editor["normal"]
    assert normal["event"] == "agenda.changed" and normal["data"]["action"] == "fhir_refreshed"
    assert (normal["data"]["created"], normal["data"]["updated"]) == (1, 1)
    assert normal["data"]["withdrawn"] == 1
    slow_delay, slow = by_editor["slow"]
    assert delay < slow_delay  # arrived before the slow editor was even given up
    assert slow["event"] == "directory.refresh_failed" and slow["data"]["status"] == "timeout"
    assert SLOW_TIMEOUT <= slow_delay < SLOW
    failing = by_editor["failing"][1]["data"]
    assert failing["status"] == "error" and "HTTP 500" in failing["error"]
    assert by_editor["paged"][1]["data"]["pages"] == 3
    slots = _slots(sessions)
    assert slots["normal:n2"][0] == "cancelled" and slots["normal:n3"][0] == "open"
    found = await desk.request("directory.search", commune_insee="17300")
    shown = {x["id"] for d in found["search"]["doctors"] for day in d["days"]
             for x in day["slots"]}  # fmt: skip
    with sessions() as s:
        n3 = s.scalar(select(Slot.id).where(Slot.source_ref == "normal:n3"))
    assert n3 in shown
    await desk.close()


async def test_refresh_checks_role_and_editor(fhir_hub_running: Hub) -> None:
    from app.client.hub_client import HubError

    n1 = await logged_client(fhir_hub_running, "n1")
    with pytest.raises(HubError) as refused:
        await n1.request("directory.refresh")
    assert refused.value.code == "forbidden"
    osnp = await logged_client(fhir_hub_running, "osnp")
    with pytest.raises(HubError) as unknown:
        await osnp.request("directory.refresh", editors=["inconnu"])
    assert unknown.value.code == "not_found"
    await n1.close()
    await osnp.close()


async def test_a_hub_without_editors_says_so(hub: Hub) -> None:
    from app.client.hub_client import HubError

    osnp = await logged_client(hub, "osnp")
    with pytest.raises(HubError) as refused:
        await osnp.request("directory.refresh")
    assert refused.value.code == "invalid_state"
    assert "aucun agenda FHIR" in refused.value.message
    await osnp.close()
