"""Pro Santé Connect logins through a real hub, against a PSC double on loopback (its own
RSA keys and JWKS, discovery at PSC's path, CIBA, both token grants, userinfo with PSC's
claim shapes): approved, denied, expired, slow, wrong audience, bad signature, unknown
identifier, a nurse on an MRL account, PSC down and the password fallback, the room's
policy per role, and the browser's authorization code with PKCE."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from websockets.asyncio.client import connect

from app.bench.psc_double import Person, PscDouble
from app.config.settings import HubSettings
from app.db.models import LoginSession, User
from app.psc.settings import Fallback, Policy, PscSettings
from app.room import Hub
from tests.conftest import PASSWORD
from tests.psc.room import AMU_ID, MRL_ID, NURSE_ID, ROLES, STRANGER_ID, psc_settings, with_ids


@pytest.fixture
def psc() -> Iterator[PscDouble]:
    double = PscDouble(interval=0).start()
    double.add(Person(MRL_ID))
    double.add(Person(AMU_ID, family_name="DURAND"))
    double.add(Person(NURSE_ID, profession="60"))
    double.add(Person(STRANGER_ID))
    yield double
    double.stop()


@pytest.fixture
async def psc_hub(
    db_url: str, sessions: sessionmaker[Session], psc: PscDouble
) -> AsyncIterator[Hub]:
    with_ids(sessions)
    hub = Hub(db_url, "127.0.0.1", 0, settings=HubSettings(psc=psc_settings(psc, roles=ROLES)))
    await hub.start()
    yield hub
    await hub.stop()


async def desk(hub: Hub) -> tuple[Any, dict[str, Any]]:
    ws = await connect(hub.url)
    return ws, json.loads(await ws.recv())


async def ask(ws: Any, payload: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
    await ws.send(json.dumps(payload))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def psc_login(ws: Any, national_id: str, **kw: Any) -> dict[str, Any]:
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": national_id, **kw})
    if start["type"] != "ok":
        return start
    reply = await ask(ws, {"type": "login.psc.wait", "id": 2, "request": start["request"]})
    if reply["type"] == "ok":  # then the snapshot, as after a password login
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snapshot["type"] == "snapshot"
    return reply


def last_session(sessions: sessionmaker[Session]) -> LoginSession:
    with sessions() as s:
        row = s.scalars(select(LoginSession).order_by(LoginSession.id.desc())).first()
        assert row is not None
        s.expunge(row)
        return row


# -- the CIBA flow ---------------------------------------------------------------------


async def test_approved_login_shows_the_code_and_opens_a_psc_session(
    psc_hub: Hub, psc: PscDouble, sessions: sessionmaker[Session]
) -> None:
    ws, welcome = await desk(psc_hub)
    assert welcome["psc"] == {
        "enabled": True,
        "pkce": False,
        "roles": {
            "ARM_N1": "password", "ARM_N2": "password", "MEDECIN_AMU": "may", "MRL": "must",
            "OSNP": "password", "SUPERVISEUR": "password", "GESTIONNAIRE_CPTS": "password",
        },
    }  # fmt: skip
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID,
                           "desk": "poste-7"})  # fmt: skip
    assert start["type"] == "ok" and start["re"] == 1
    assert len(start["binding_message"]) == 2 and start["binding_message"].isdigit()
    # PSC was asked for this professional, with the code the desk shows.
    assert psc.ciba_requests[-1] == {
        "login_hint": MRL_ID,
        "binding_message": start["binding_message"],
    }
    assert start["expires_in"] == 120
    reply = await ask(ws, {"type": "login.psc.wait", "id": 2, "request": start["request"]})
    assert reply["type"] == "ok" and reply["re"] == 2, reply
    assert reply["auth"] == "psc"
    assert reply["user"]["username"] == "mrl" and reply["user"]["national_id"] == MRL_ID
    assert "decide" in reply["permissions"]["actions"]
    snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert snapshot["type"] == "snapshot" and snapshot["user"]["national_id"] == MRL_ID
    row = last_session(sessions)
    assert (row.auth, row.national_id, row.desk) == ("psc", MRL_ID, "poste-7")
    # The session works: an intent needing a login is answered.
    listed = await ask(ws, {"type": "queue.list", "id": 3, "queue": "SNP"})
    assert listed["type"] == "ok", listed
    # The request is spent: waiting for it again finds nothing.
    again = await ask(ws, {"type": "login.psc.wait", "id": 4, "request": start["request"]})
    assert again["code"] == "not_found"
    await ws.close()


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [
        ("deny", "psc_denied"),
        ("expire", "psc_expired"),
        ("wrong_aud", "psc_invalid"),
        ("bad_signature", "psc_invalid"),
    ],
)
async def test_refusals_open_no_session(
    psc_hub: Hub, psc: PscDouble, sessions: sessionmaker[Session], behaviour: str, code: str
) -> None:
    psc.people[AMU_ID].behaviour = behaviour
    ws, _ = await desk(psc_hub)
    reply = await psc_login(ws, AMU_ID)
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert reply["message"]
    with sessions() as s:
        assert s.scalar(select(LoginSession.id)) is None
    # Still not logged in.
    assert (await ask(ws, {"type": "queue.list", "id": 9, "queue": "SNP"}))["code"] == (
        "unauthenticated"
    )
    await ws.close()


async def test_slow_approval_is_polled_at_the_pace_psc_asks(psc_hub: Hub, psc: PscDouble) -> None:
    psc.people[MRL_ID].pending_polls = 4
    psc.people[MRL_ID].slow_downs = 2
    ws, _ = await desk(psc_hub)
    t0 = time.monotonic()
    reply = await psc_login(ws, MRL_ID)
    elapsed = time.monotonic() - t0
    assert reply["type"] == "ok" and reply["auth"] == "psc", reply
    assert psc.token_requests.count("urn:openid:params:grant-type:ciba") == 5
    # Two slow_down answers: the interval grew by 0.05 s each time (0.02, 0.07, 0.12…).
    assert elapsed >= 0.02 + 0.07 + 0.12 + 0.12 + 0.12
    await ws.close()


async def test_the_hub_answers_other_desks_while_one_waits_for_psc(
    psc_hub: Hub, psc: PscDouble
) -> None:
    psc.people[MRL_ID].pending_polls = 10**6  # never answers
    ws, _ = await desk(psc_hub)
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID})
    await ws.send(json.dumps({"type": "login.psc.wait", "id": 2, "request": start["request"]}))
    other, _ = await desk(psc_hub)
    t0 = time.monotonic()
    reply = await ask(other, {"type": "login", "id": 1, "username": "n1", "password": PASSWORD})
    assert reply["type"] == "ok" and reply["auth"] == "password"
    assert time.monotonic() - t0 < 3
    await other.close()
    await ws.close()


async def test_an_identifier_no_account_has_is_refused(psc_hub: Hub) -> None:
    ws, _ = await desk(psc_hub)
    reply = await psc_login(ws, STRANGER_ID)
    assert reply["code"] == "psc_no_account" and STRANGER_ID in reply["message"]
    await ws.close()


async def test_a_nurse_on_an_mrl_account_is_refused_with_the_reason(psc_hub: Hub) -> None:
    ws, _ = await desk(psc_hub)
    reply = await psc_login(ws, NURSE_ID)
    assert reply["code"] == "psc_role_mismatch", reply
    assert "Infirmier (code 60)" in reply["message"] and "médecin" in reply["message"]
    await ws.close()


async def test_a_disabled_account_is_not_opened(
    psc_hub: Hub, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        s.execute(update(User).where(User.username == "amu").values(active=False))
    ws, _ = await desk(psc_hub)
    assert (await psc_login(ws, AMU_ID))["code"] == "psc_no_account"
    await ws.close()


async def test_a_malformed_identifier_is_a_bad_request(psc_hub: Hub, psc: PscDouble) -> None:
    ws, _ = await desk(psc_hub)
    reply = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": "10001234567"})
    assert reply["code"] == "bad_request" and "810001234567" in reply["message"]
    reply = await ask(ws, {"type": "login.psc.start", "id": 2, "national_id": "8100-ABC"})
    assert reply["code"] == "bad_request"
    assert psc.ciba_requests == []  # PSC was not bothered
    await ws.close()


async def test_reproving_an_account_needs_its_own_identifier(psc_hub: Hub) -> None:
    ws, _ = await desk(psc_hub)
    reply = await psc_login(ws, AMU_ID, username="mrl")  # someone else's card on mrl's desk
    assert reply["code"] == "psc_no_account" and "mrl" in reply["message"]
    reply = await psc_login(ws, MRL_ID, username="mrl")
    assert reply["type"] == "ok" and reply["user"]["username"] == "mrl"
    await ws.close()


async def test_a_password_role_is_not_opened_by_psc(
    psc_hub: Hub, psc: PscDouble, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        s.execute(update(User).where(User.username == "n2").values(national_id="0123456789"))
    psc.add(Person("0123456789", profession="60"))
    ws, _ = await desk(psc_hub)
    # Nothing is said about the account before PSC proved who asks.
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID,
                           "username": "n1"})  # fmt: skip
    assert start["type"] == "ok"
    reply = await psc_login(ws, "0123456789", username="n2")
    assert reply["code"] == "psc_role_mismatch" and "mot de passe" in reply["message"]
    await ws.close()


# -- the room's policy and the fallback --------------------------------------------------


async def test_policy_must_may_password(psc_hub: Hub) -> None:
    ws, _ = await desk(psc_hub)
    must = await ask(ws, {"type": "login", "id": 1, "username": "mrl", "password": PASSWORD})
    assert must["code"] == "psc_required"
    wrong = await ask(ws, {"type": "login", "id": 2, "username": "mrl", "password": "non"})
    assert wrong["code"] == "bad_credentials"  # the password is checked first
    may = await ask(ws, {"type": "login", "id": 3, "username": "amu", "password": PASSWORD})
    assert may["type"] == "ok" and may["auth"] == "password"
    assert may["user"]["national_id"] == AMU_ID
    await ws.close()
    ws, _ = await desk(psc_hub)
    plain = await ask(ws, {"type": "login", "id": 1, "username": "n1", "password": PASSWORD})
    assert plain["type"] == "ok" and plain["auth"] == "password"
    assert plain["user"]["national_id"] == ""
    await ws.close()


async def test_psc_down_allows_a_password_with_a_reason_only_then(
    psc_hub: Hub, psc: PscDouble, sessions: sessionmaker[Session]
) -> None:
    sup, _ = await desk(psc_hub)
    assert (await ask(sup, {"type": "login", "id": 1, "username": "sup", "password": PASSWORD}))[
        "type"
    ] == "ok"
    await asyncio.wait_for(sup.recv(), 5)  # snapshot
    ws, _ = await desk(psc_hub)
    reason = "Pro Santé Connect ne répond pas depuis 9 h 40"
    login = {"type": "login", "id": 1, "username": "mrl", "password": PASSWORD,
             "fallback_reason": reason}  # fmt: skip
    # PSC answers: no fallback, whatever the reason.
    assert (await ask(ws, login))["code"] == "psc_required"
    psc.down = True
    start = await ask(ws, {"type": "login.psc.start", "id": 2, "national_id": MRL_ID})
    assert start["code"] == "psc_unavailable" and start["fallback"] == "password_with_reason"
    no_reason = await ask(ws, {**login, "fallback_reason": ""})
    assert no_reason["code"] == "psc_required"
    reply = await ask(ws, login)
    assert reply["type"] == "ok" and reply["auth"] == "password_fallback", reply
    row = last_session(sessions)
    assert (row.auth, row.fallback_reason) == ("password_fallback", reason)
    event = json.loads(await asyncio.wait_for(sup.recv(), 5))
    assert event["event"] == "login.psc_fallback"
    assert event["data"]["username"] == "mrl" and event["data"]["reason"] == reason
    await ws.close()
    await sup.close()


async def test_psc_down_without_fallback_says_none(
    db_url: str, sessions: sessionmaker[Session], psc: PscDouble
) -> None:
    with_ids(sessions)
    settings = psc_settings(psc, roles={"MRL": Policy.MUST}, fallback=Fallback.NONE)
    hub = Hub(db_url, "127.0.0.1", 0, settings=HubSettings(psc=settings))
    await hub.start()
    try:
        psc.stop()  # connection refused, not a 503
        ws, _ = await desk(hub)
        start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID,
                               "username": "mrl"})  # fmt: skip
        assert start["code"] == "psc_unavailable" and start["fallback"] == "none"
        login = await ask(ws, {"type": "login", "id": 2, "username": "mrl",
                               "password": PASSWORD, "fallback_reason": "panne"})  # fmt: skip
        assert login["code"] == "psc_required"
        await ws.close()
    finally:
        await hub.stop()


async def test_a_hub_without_psc_offers_only_passwords(hub: Hub) -> None:
    ws, welcome = await desk(hub)
    assert welcome["psc"]["enabled"] is False
    assert set(welcome["psc"]["roles"].values()) == {"password"}
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID})
    assert start["code"] == "psc_unavailable" and start["fallback"] == "none"
    await ws.close()


# -- the browser's authorization code with PKCE -------------------------------------------


async def test_authorization_code_with_pkce(
    db_url: str, sessions: sessionmaker[Session], psc: PscDouble
) -> None:
    with_ids(sessions)
    hub = Hub(db_url, "127.0.0.1", 0, settings=HubSettings(psc=psc_settings(psc, pkce=True)))
    await hub.start()
    try:
        ws, welcome = await desk(hub)
        assert welcome["psc"]["pkce"] is True
        bad = await ask(ws, {"type": "login.psc.authorize", "id": 1,
                             "redirect_uri": "http://evil.example:8080/psc"})  # fmt: skip
        assert bad["code"] == "bad_request"
        redirect = "http://127.0.0.1:53682/psc"
        auth = await ask(ws, {"type": "login.psc.authorize", "id": 2, "redirect_uri": redirect})
        query = parse_qs(urlsplit(auth["url"]).query)
        assert query["state"] == [auth["state"]] and query["acr_values"] == ["eidas1"]
        assert query["code_challenge_method"] == ["S256"] and query["nonce"][0]
        assert query["redirect_uri"] == [redirect]
        # The professional at the browser approves; PSC redirects to the desk's loopback.
        psc.browser_user = MRL_ID
        async with httpx.AsyncClient() as browser:
            answer = await browser.get(auth["url"], follow_redirects=False)
        assert answer.status_code == 302
        back = parse_qs(urlsplit(answer.headers["location"]).query)
        assert back["state"] == [auth["state"]]
        forged = await ask(ws, {"type": "login.psc.code", "id": 3, "state": "pas-le-bon-etat",
                                "code": back["code"][0]})  # fmt: skip
        assert forged["code"] == "psc_invalid"
        reply = await ask(ws, {"type": "login.psc.code", "id": 4, "state": auth["state"],
                               "code": back["code"][0]})  # fmt: skip
        assert reply["type"] == "ok" and reply["auth"] == "psc", reply
        assert reply["user"]["username"] == "mrl"
        await ws.close()
        # A state is for the desk it was given to, once.
        other, _ = await desk(hub)
        again = await ask(other, {"type": "login.psc.code", "id": 1, "state": auth["state"],
                                  "code": back["code"][0]})  # fmt: skip
        assert again["code"] == "psc_invalid"
        await other.close()
    finally:
        await hub.stop()


def test_settings_policy_defaults() -> None:
    off = PscSettings()
    assert off.policy("MRL") == Policy.PASSWORD  # no client: passwords
    on = replace(off, discovery_url="https://psc.example/x", client_id="c")
    assert on.policy("MRL") == on.policy("MEDECIN_AMU") == Policy.MAY
    assert on.policy("ARM_N1") == Policy.PASSWORD


async def test_after_idle_the_doctor_proves_again_with_psc(
    db_url: str, sessions: sessionmaker[Session], psc: PscDouble
) -> None:
    from tests.hub.desks import Clock

    with_ids(sessions)
    clock = Clock()
    settings = HubSettings(psc=psc_settings(psc, roles={"MRL": Policy.MUST}))
    hub = Hub(db_url, "127.0.0.1", 0, clock=clock, settings=settings)
    await hub.start()
    try:
        ws, _ = await desk(hub)
        first = await psc_login(ws, MRL_ID)
        assert first["auth"] == "psc"
        await ws.close()
        clock.advance(minutes=61)  # the room's idle time (60 min by default)
        ws, _ = await desk(hub)
        resumed = await ask(ws, {"type": "resume", "id": 1, "token": first["token"]})
        assert resumed["code"] == "session_expired" and "sans activité" in resumed["message"]
        again = await psc_login(ws, MRL_ID, username="mrl")
        assert again["type"] == "ok" and again["auth"] == "psc"
        assert again["token"] != first["token"]
        resumed = await ask(ws, {"type": "resume", "id": 3, "token": again["token"]})
        assert resumed["type"] == "ok" and resumed["auth"] == "psc"
        await ws.close()
    finally:
        await hub.stop()


async def test_a_desk_cannot_ring_a_phone_over_and_over(psc_hub: Hub, psc: PscDouble) -> None:
    ws, _ = await desk(psc_hub)
    for n in range(3):
        start = await ask(ws, {"type": "login.psc.start", "id": n, "national_id": MRL_ID})
        assert start["type"] == "ok"
    fourth = await ask(ws, {"type": "login.psc.start", "id": 9, "national_id": MRL_ID})
    assert fourth["code"] == "busy"
    assert len(psc.ciba_requests) == 3
    await ws.close()


async def test_a_desk_that_leaves_mid_wait_stops_the_polling(
    psc_hub: Hub, psc: PscDouble, sessions: sessionmaker[Session]
) -> None:
    from tests.waits import until

    psc.people[MRL_ID].pending_polls = 10**6
    ws, _ = await desk(psc_hub)
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID})
    await ws.send(json.dumps({"type": "login.psc.wait", "id": 2, "request": start["request"]}))
    await until(lambda: len(psc.token_requests) >= 2, "the hub polls PSC")
    await ws.close()
    await until(lambda: not psc_hub.connections, "the hub lets the desk go")
    polled = len(psc.token_requests)
    # For a dozen polls' time (0.02 s apart) no more comes (one may be under way).
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        assert len(psc.token_requests) <= polled + 1
        await asyncio.sleep(0.02)
    with sessions() as s:
        assert s.scalar(select(LoginSession.id)) is None


async def test_mutual_tls_client_certificate_instead_of_a_secret(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """PSC's production choice for CIBA: the hub proves itself with a client certificate."""
    from tests.certs import Authority

    ca = Authority(tmp_path / "pki")
    server, client = ca.issue("psc"), ca.issue("hub-client", client=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(server.cert, server.key)
    tls.load_verify_locations(ca.file)
    tls.verify_mode = ssl.CERT_REQUIRED
    psc = PscDouble(interval=0, tls=tls).start()
    psc.add(Person(MRL_ID))
    with_ids(sessions)
    settings = replace(
        psc_settings(psc), client_secret="", cert_file=client.cert, key_file=client.key,
        ca_file=ca.file,
    )  # fmt: skip
    hub = Hub(db_url, "127.0.0.1", 0, settings=HubSettings(psc=settings))
    await hub.start()
    try:
        ws, _ = await desk(hub)
        reply = await psc_login(ws, MRL_ID)
        assert reply["type"] == "ok" and reply["auth"] == "psc", reply
        await ws.close()
    finally:
        await hub.stop()
        psc.stop()


async def test_signed_userinfo_is_checked_like_the_token(psc_hub: Hub, psc: PscDouble) -> None:
    psc.signed_userinfo = True
    ws, _ = await desk(psc_hub)
    reply = await psc_login(ws, MRL_ID)
    assert reply["type"] == "ok" and reply["user"]["national_id"] == MRL_ID, reply
    await ws.close()


async def test_psc_going_down_mid_wait_says_so_with_the_fallback(
    psc_hub: Hub, psc: PscDouble
) -> None:
    psc.people[MRL_ID].pending_polls = 10**6
    ws, _ = await desk(psc_hub)
    start = await ask(ws, {"type": "login.psc.start", "id": 1, "national_id": MRL_ID})
    psc.down = True
    reply = await ask(ws, {"type": "login.psc.wait", "id": 2, "request": start["request"]})
    assert reply["code"] == "psc_unavailable" and reply["fallback"] == "password_with_reason"
    await ws.close()
