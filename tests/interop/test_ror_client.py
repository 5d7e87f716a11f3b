"""The ROR client (CPTS and intervention zones) on the slot client's puller, against a
ROR served on 127.0.0.1: paged (an Organization on a later page, a bad offer
rejected), slow (given up at its own deadline without holding up an agenda editor),
failing (the directory stays as it was), and refreshed on a desk's demand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config.hubfile import ROR_PROFILE_SYSTEM
from app.config.settings import FhirEditorSettings, FhirSettings, HubSettings
from app.db.types import utcnow
from app.directory.models import Structure
from app.interop import fhir_hub
from app.room import Hub
from tests.hub.desks import logged_client
from tests.interop.fhir_server import Editors, fhir_editors
from tests.waits import until

SLOW = 6.0
ROR_HEADERS = (
    ("Ror-Profil-Utilisateur-Code", "CU23"),
    ("Ror-Profil-Utilisateur-System", ROR_PROFILE_SYSTEM),
)


@pytest.fixture
def servers() -> Any:
    with fhir_editors(utcnow(), slow_seconds=SLOW) as e:
        yield e


def _settings(servers: Editors, ror: str, timeout: float, editors: tuple[str, ...] = ()) -> Any:
    return HubSettings(
        fhir=FhirSettings(
            editors=tuple(
                FhirEditorSettings(n, f"{servers.base}/{n}", timeout_s=5.0) for n in editors
            ),
            ror=FhirEditorSettings(
                "ROR",
                f"{servers.base}/ror-{ror}",
                timeout_s=timeout,
                page_size=2,
                headers=ROR_HEADERS,
            ),  # fmt: skip
            refresh_minutes=60,
            ror_refresh_minutes=60,
        )
    )


@pytest.fixture
async def start_hub(db_url: str, sessions: sessionmaker[Session]) -> AsyncIterator[Any]:
    started: list[Hub] = []

    async def start(settings: HubSettings) -> Hub:
        hub = Hub(db_url, "127.0.0.1", 0, settings=settings)
        await hub.start()
        started.append(hub)
        return hub

    yield start
    for hub in started:
        await hub.stop()


async def _ror_done(hub: Hub) -> None:
    puller = hub.extension(fhir_hub.FhirHub).ror
    assert puller is not None
    await asyncio.gather(*puller.running.values())


def _zones(sessions: sessionmaker[Session]) -> dict[str, tuple[list[str], str]]:
    with sessions() as s:
        return {
            str(x.national_id): (list(x.communes or []), x.snp_phone)
            for x in s.scalars(select(Structure))
        }


async def test_paged_ror_gives_the_zones_resolved_across_pages(
    start_hub: Any, servers: Editors, sessions: sessionmaker[Session]
) -> None:
    hub = await start_hub(_settings(servers, "paged", 5.0))
    await _ror_done(hub)
    assert _zones(sessions) == {
        "170000001": (["17028", "17300"], "0546000015"),
        "950047225": (["95018", "95127"], "0130303030"),
    }
    asked = [q for path, q in servers.requests if path == "/ror-paged/HealthcareService"]
    assert [q.get("_page", ["1"])[0] for q in asked] == ["1", "2", "3"]
    assert asked[0]["_include"] == ["HealthcareService:organization"]
    assert asked[0]["organization.type"][0].endswith("TRE-R66-CategorieEtablissement|604")
    assert asked[0]["_count"] == ["2"]
    sent = servers.headers[0]
    assert sent["Ror-Profil-Utilisateur-Code"] == "CU23"
    assert sent["Ror-Profil-Utilisateur-System"] == ROR_PROFILE_SYSTEM

    # On a desk's demand: the ROR moved the zone; the bad offer is reported each time.
    desk = await logged_client(hub, "osnp")
    seen: list[dict[str, Any]] = []
    desk.on_event.append(seen.append)
    servers.lr_zone = ["17300", "17200"]
    reply = await desk.request("directory.refresh", editors=["ROR"])
    assert reply["refresh"] == {"editors": ["ROR"], "started": True}
    await until(lambda: any(m["data"].get("editor") == "ROR" for m in seen), "ROR event")
    event = next(m for m in seen if m["data"].get("editor") == "ROR")
    assert event["event"] == "agenda.changed" and event["data"]["action"] == "ror_refreshed"
    assert event["data"]["pages"] == 3 and event["data"]["updated"] == 2
    assert event["data"]["rejected"] == [
        {"where": "HealthcareService/hs-bad",
         "why": "zone d'intervention : 17999 n'est pas une commune"}
    ]  # fmt: skip
    assert _zones(sessions)["170000001"] == (["17200", "17300"], "0546000015")
    found = await desk.request("directory.search", commune_insee="17200")
    assert [c["name"] for c in found["search"]["cpts"]] == ["CPTS La Rochelle"]
    await desk.close()


async def test_a_slow_ror_is_given_up_without_holding_up_an_agenda_editor(
    start_hub: Any, servers: Editors, sessions: sessionmaker[Session]
) -> None:
    from pathlib import Path

    from app.directory.imports.effecteurs import import_effecteurs

    data = Path(__file__).parents[1] / "directory" / "data"
    assert import_effecteurs(sessions, data / "effecteurs_latin1.csv").committed
    started = time.monotonic()
    hub = await start_hub(_settings(servers, "slow", 1.0, editors=("normal",)))
    desk = await logged_client(hub, "osnp")
    seen: list[tuple[float, dict[str, Any]]] = []
    desk.on_event.append(lambda m: seen.append((time.monotonic() - started, m)))
    await desk.request("directory.refresh", editors=["normal", "ROR"])
    await until(
        lambda: {m["data"].get("editor") for _, m in seen} >= {"normal", "ROR"},
        lambda: f"both results ({seen})",
        timeout=10,
    )
    at = {m["data"]["editor"]: (t, m) for t, m in seen}
    assert at["normal"][0] < at["ROR"][0] < SLOW
    ror = at["ROR"][1]
    assert ror["event"] == "directory.refresh_failed" and ror["data"]["status"] == "timeout"
    assert _zones(sessions) == {}
    await desk.close()


async def test_a_failing_ror_leaves_the_directory_as_it_was(
    start_hub: Any, servers: Editors, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        s.add(Structure(kind="CPTS", name="CPTS La Rochelle", communes=["17094"]))
    hub = await start_hub(_settings(servers, "failing", 5.0))
    await _ror_done(hub)
    result = hub.extension(fhir_hub.FhirHub).ror.running["ROR"].result()
    assert result.status == "error" and "HTTP 500" in result.error
    assert _zones(sessions) == {"None": (["17094"], "")}
