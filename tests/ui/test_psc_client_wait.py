"""The desk's client waits for PSC's answer as long as the request lives: a professional
who validates the code after more than the 10 s every other intent is given still gets
the desk logged in (the wait is not cut by the client's usual per-intent timeout)."""

from __future__ import annotations

import asyncio

import pytest

from app.bench.psc_double import PscDouble
from app.client.hub_client import HubClient
from tests.ui.psc_room import MRL_ID, approve
from tests.waits import until

#: Every other intent's reply is awaited 10 s (HubClient.request's default).
USUAL_TIMEOUT = 10.0


@pytest.mark.beside_package  # waits out 10 s of wall time on no CPU: beside the build
def test_a_code_validated_after_the_usual_timeout_still_logs_in(
    psc: PscDouble, psc_url: str
) -> None:
    async def scenario(url: str) -> None:
        client = HubClient(url, desk="poste-lent", reconnect=False)
        await client.connect()
        started = await client.psc_start(MRL_ID)
        assert started["expires_in"] > USUAL_TIMEOUT + 1
        loop = asyncio.get_running_loop()
        began = loop.time()
        waiting = asyncio.create_task(client.psc_wait(started["request"], started["expires_in"]))
        await until(lambda: loop.time() - began > USUAL_TIMEOUT + 0.5, timeout=15)
        assert not waiting.done()  # still waiting for the professional, not timed out
        approve(psc, MRL_ID)
        reply = await asyncio.wait_for(waiting, 10)
        assert reply["auth"] == "psc" and reply["user"]["national_id"] == MRL_ID
        await client.close()

    asyncio.run(scenario(psc_url))
