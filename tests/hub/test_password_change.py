"""``password.change`` against the real hub: the old password checked (and throttled like
a login), the policy applied with its French reason, the account's other sessions ended,
this one kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient, HubError
from app.config.settings import SessionSettings
from app.room import Hub
from tests.conftest import PASSWORD
from tests.hub.desks import Clock, exchange, logged_client, login, raw_desk, started
from tests.waits import until

NEW = "Régul@tion-15-SAS"


async def refused(client: HubClient, **payload: Any) -> HubError:
    with pytest.raises(HubError) as caught:
        await client.request("password.change", **payload)
    return caught.value


async def test_a_user_changes_their_password_and_each_refusal_says_why(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    clock = Clock()
    hub = await started(db_url, SessionSettings(throttle_after=1, lock_after=5), clock)
    try:
        here = await logged_client(hub, "n1")
        elsewhere = await logged_client(hub, "n1")  # the same account on another desk
        ended: list[dict[str, Any]] = []
        elsewhere.on_session_ended.append(ended.append)

        err = await refused(here, old_password=PASSWORD, new_password="Court-1")
        assert err.code == "weak_password" and "trop court" in err.message
        assert "rien n'a changé" in err.message
        err = await refused(here, old_password=PASSWORD, new_password="Motdepasse2026!")
        assert err.code == "weak_password" and "trop courant" in err.message
        err = await refused(here, old_password="pas-le-bon", new_password=NEW)
        assert (err.code, err.message) == (
            "bad_credentials",
            "ancien mot de passe incorrect ; rien n'a changé",
        )
        # A wrong old password counts like a wrong login: the next try must wait.
        err = await refused(here, old_password=PASSWORD, new_password=NEW)
        assert err.code == "throttled" and "attendez 1 s" in err.message
        assert (await login(await raw_desk(hub), "n1", PASSWORD))["code"] == "throttled"
        clock.advance(seconds=1)

        reply = await here.request("password.change", old_password=PASSWORD, new_password=NEW)
        assert reply["sessions_ended"] == 1
        await until(lambda: bool(ended))
        assert ended[0]["reason"] == "revoked"
        # This desk keeps working; the old password is gone, the new one logs in.
        await here.request("call.offered", call_ref="after-change", line="15")
        assert (await login(await raw_desk(hub), "n1", PASSWORD))["code"] == "bad_credentials"
        clock.advance(seconds=2)
        assert (await login(await raw_desk(hub), "n1", NEW))["type"] == "ok"
        err = await refused(here, old_password=NEW, new_password=NEW)
        assert err.code == "weak_password" and "différer de l'ancien" in err.message
        # Nobody else's password moved.
        assert (await login(await raw_desk(hub), "n1b", PASSWORD))["type"] == "ok"
        await here.close()
        await elsewhere.close()
    finally:
        await hub.stop()


async def test_password_change_needs_a_login(hub: Hub) -> None:
    ws = await raw_desk(hub)
    reply = await exchange(
        ws, {"type": "password.change", "id": 1, "old_password": "x", "new_password": NEW}
    )
    assert reply["code"] == "unauthenticated"
