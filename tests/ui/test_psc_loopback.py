"""The desk's loopback redirect for PSC's browser flow (app.client.loopback), with a real
HTTP client on 127.0.0.1: the right redirect is taken and answered in French, a foreign
``state`` is refused and ignored, PSC's ``error`` is handed over, strays get 404/405."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.client.loopback import Redirect, RedirectListener, RedirectRefused


async def _get(url: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url, params=params)


def test_the_redirect_is_taken_once_and_answered_in_french() -> None:
    async def scenario() -> None:
        async with RedirectListener() as listener:
            uri = listener.redirect_uri
            assert uri.startswith("http://127.0.0.1:") and uri.endswith("/psc")
            assert listener.port > 0
            listener.expect("etat-de-la-connexion")
            foreign = await _get(uri, code="c0de", state="un-autre-etat")
            assert foreign.status_code == 400
            assert "ne correspond pas" in foreign.text
            stray = await _get(uri.replace("/psc", "/favicon.ico"))
            assert stray.status_code == 404
            async with httpx.AsyncClient() as http:
                posted = await http.post(uri, data={"code": "x", "state": "etat-de-la-connexion"})
            assert posted.status_code == 405
            with pytest.raises(TimeoutError):  # none of those was taken
                await listener.wait(0.05)
            page = await _get(uri, code="le-code", state="etat-de-la-connexion")
            assert page.status_code == 200
            assert "Vous pouvez revenir à sasdesk" in page.text
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            got = await listener.wait(1.0)
            assert got == Redirect("le-code", "etat-de-la-connexion")
            again = await _get(uri, code="autre", state="etat-de-la-connexion")
            assert "déjà terminée" in again.text
            assert await listener.wait(1.0) == got  # the first one stands

    asyncio.run(scenario())


def test_psc_refusal_reaches_the_desk_and_silence_times_out() -> None:
    async def scenario() -> None:
        async with RedirectListener() as listener:
            listener.expect("etat-1")
            page = await _get(
                listener.redirect_uri,
                error="access_denied",
                error_description="refus du professionnel",
                state="etat-1",
            )
            assert page.status_code == 200 and "pas accordé" in page.text
            with pytest.raises(RedirectRefused) as refused:
                await listener.wait(1.0)
            assert refused.value.error == "access_denied"
            assert refused.value.description == "refus du professionnel"
        async with RedirectListener() as quiet:
            quiet.expect("etat-2")
            with pytest.raises(TimeoutError):
                await quiet.wait(0.2)
        # Closed: the port no longer answers.
        with pytest.raises(httpx.ConnectError):
            await _get(quiet.redirect_uri, code="c", state="etat-2")

    asyncio.run(scenario())


def test_a_garbled_request_gets_an_error_page_and_changes_nothing() -> None:
    async def scenario() -> None:
        async with RedirectListener() as listener:
            listener.expect("etat-3")
            reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
            writer.write(b"\x00\xff garbage without an end")
            writer.write_eof()
            answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 400 ")
            page = await _get(listener.redirect_uri, code="bon", state="etat-3")
            assert page.status_code == 200
            assert (await listener.wait(1.0)).code == "bon"

    asyncio.run(scenario())
