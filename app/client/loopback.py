"""The desk's loopback redirect for Pro Santé Connect's authorization-code flow (PKCE).

The system browser takes the professional to PSC; PSC sends the browser back to
``http://127.0.0.1:PORT/psc?code=…&state=…`` (RFC 8252 §7.3, a native application's
loopback redirect). This listener, on a free port of 127.0.0.1 only, takes that one
request, answers the browser a French page, and hands ``code`` and ``state`` to the desk,
which passes them to the hub (the hub holds the PKCE verifier and PSC's credentials).

A request with another ``state`` than the one the hub gave (another tab, a page that
guessed the port) is answered and ignored: the listener keeps waiting for the right one.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

#: The path PSC redirects to (the hub checks the redirect URI is on 127.0.0.1).
REDIRECT_PATH = "/psc"
#: A browser sends its request at once; a connection that says nothing is dropped.
READ_SECONDS = 5.0
MAX_HEAD = 16 * 1024


@dataclass(frozen=True)
class Redirect:
    code: str
    state: str


class RedirectRefused(Exception):
    """PSC sent the browser back with an ``error`` (the professional refused, …)."""

    def __init__(self, error: str, description: str = ""):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


def _page(title: str, text: str) -> bytes:
    body = (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family: sans-serif; margin: 3em'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return body.encode("utf-8")


BACK = "Vous pouvez revenir à sasdesk"
PAGES = {
    "received": (200, _page(BACK, "sasdesk a reçu la réponse de Pro Santé Connect.")),
    "refused": (200, _page(BACK, "Pro Santé Connect n'a pas accordé la connexion.")),
    "other": (
        400,
        _page("Réponse inattendue", "Cette réponse ne correspond pas à la connexion en cours."),
    ),
    "done": (200, _page(BACK, "Cette connexion est déjà terminée.")),
    "unknown": (404, _page("Page inconnue", "sasdesk n'attend rien à cette adresse.")),
    "method": (405, _page("Requête refusée", "sasdesk n'attend qu'une redirection du navigateur.")),
}
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


class RedirectListener:
    """Waits for PSC's redirect on 127.0.0.1; ``async with`` closes it."""

    def __init__(self, path: str = REDIRECT_PATH):
        self.path = path
        self.port = 0
        self.expected_state: str | None = None
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[Redirect] | None = None

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; the redirect URI to give the hub."""
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.redirect_uri

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def expect(self, state: str) -> None:
        """The ``state`` the hub put in the authorization URL: only it is taken."""
        self.expected_state = state

    async def wait(self, timeout: float) -> Redirect:
        """The redirect's code and state; RedirectRefused if PSC said no, TimeoutError."""
        assert self._result is not None, "start() first"
        return await asyncio.wait_for(asyncio.shield(self._result), timeout)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def __aenter__(self) -> RedirectListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
            status, body = PAGES[self._take(head[:MAX_HEAD])]
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, body = 400, _page("Requête illisible", "sasdesk n'a pas compris la requête.")
        except ConnectionError:
            return
        writer.write(
            f"HTTP/1.1 {status} {REASONS[status]}\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n".encode("ascii")
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    def _take(self, head: bytes) -> str:
        """Which page to answer; settles the result once the right redirect came."""
        method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        target = rest.rsplit(" ", 1)[0]
        url = urlsplit(target)
        if url.path != self.path:
            return "unknown"
        if method != "GET":
            return "method"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        result = self._result
        if result is None or result.done():
            return "done"
        if self.expected_state is None or query.get("state") != self.expected_state:
            log.warning("PSC redirect with an unexpected state ignored")
            return "other"
        if "error" in query:
            result.set_exception(
                RedirectRefused(query["error"], query.get("error_description", ""))
            )
            return "refused"
        if not query.get("code"):
            return "other"
        result.set_result(Redirect(query["code"], query["state"]))
        return "received"
