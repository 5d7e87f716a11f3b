"""Two OSNP desks on a real hub: a booking reaches the other desk's panel; the last
place goes to one desk, the other gets the French refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubError
from app.db.types import utcnow
from app.hub.protocol import Ping
from app.room import Hub
from tests.directory.builders import doctor, slot
from tests.hub.desks import logged_client
from tests.waits import until


async def test_booking_is_broadcast_and_the_last_place_refused(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        e = doctor(s, "10000000301", "Chauvet")
        rng = slot(s, e, utcnow() + timedelta(hours=5), minutes=60, capacity=2)
    a = await logged_client(hub, "osnp")
    b = await logged_client(hub, "osnp2")
    n1 = await logged_client(hub, "n1")
    seen: dict[str, list[dict[str, Any]]] = {"b": [], "n1": []}
    b.on_event.append(lambda m: seen["b"].append(m))
    n1.on_event.append(lambda m: seen["n1"].append(m))
    found = (await b.request("directory.search", commune_insee="17300"))["search"]
    assert [x["places"] for d in found["doctors"] for day in d["days"] for x in day["slots"]] == [
        "0/2"
    ]
    await a.request("slot.book", slot_id=rng.id)
    await until(lambda: seen["b"], "the other OSNP told")
    await n1.call(Ping)  # a round trip after the event: one sent to N1 would be in
    assert [(m["event"], m["data"]["slot"]["places"]) for m in seen["b"]] == [
        ("slot.booked", "1/2")
    ]
    assert seen["n1"] == []  # the ARM N1 has no search panel
    await b.request("slot.book", slot_id=rng.id)
    with pytest.raises(HubError) as refused:
        await a.request("slot.book", slot_id=rng.id)
    assert refused.value.code == "conflict"
    assert "vient d'être réservé par un autre poste (2/2)" in str(refused.value)
    again = (await a.request("directory.search", commune_insee="17300"))["search"]
    assert again["doctors"][0]["earliest"] is None and again["with_slots"] == 0
    for c in (a, b, n1):
        await c.close()
