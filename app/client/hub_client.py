"""The desk's side of the protocol: requests, events, reconnection, and the outbox.

Runs on whatever asyncio loop the desk uses (qasync in the desk, plain asyncio in
tests and benchmarks). Listeners are called on that loop.

The outbox holds intents that must not be lost (typed dossier fields): they are
journalled to a file before being sent, coalesced per dossier, replayed after a
reconnection or a desk restart, and dropped only once the hub has answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from app.client.trust import CertificateRefused, HubTrust, open_socket
from app.flow import protocol as fp
from app.hub import protocol as p
from app.hub.framing import Joiner
from app.hub.payloads import (
    DossierView,
    EventMessage,
    LoginReply,
    Permissions,
    Snapshot,
    UserView,
    as_reply,
)

log = logging.getLogger(__name__)

Message = dict[str, Any]
Listener = Callable[[Message], None]
#: A refused connection costs nothing: a restarted hub is found within half a second
#: of listening (sasdesk bench hubstart measures it).
RECONNECT_DELAYS = (0.1, 0.2, 0.5)
#: A Pro Santé Connect wait is answered once PSC answered: up to the request's
#: ``expires_in``, plus the hub's last poll and validation of the token.
PSC_WAIT_MARGIN = 30.0


class LinkState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"  # socket open, not yet logged in
    READY = "ready"  # logged in, snapshot received


class HubError(Exception):
    def __init__(self, code: str, message: str, details: Any = None, reply: Message | None = None):
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message
        self.details = details
        #: The whole error reply: some carry more than a message (``psc_unavailable``
        #: says whether a password with a reason is allowed: ``fallback``).
        self.reply: Message = reply or {}


class Outbox:
    """Pending dossier updates, journalled to disk, coalesced per dossier."""

    def __init__(self, journal: Path | None):
        self.journal = journal
        self.pending: dict[int, dict[str, Any]] = {}
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)
        if journal is not None and journal.exists():
            try:
                raw = json.loads(journal.read_text(encoding="utf-8"))
                self.pending = {int(k): v for k, v in raw.items()}
            except (ValueError, OSError) as exc:
                log.error("outbox journal %s unreadable (%s); kept aside", journal, exc)
                journal.rename(journal.with_suffix(".corrupt"))

    def put(self, dossier_id: int, fields: dict[str, Any]) -> None:
        self.pending.setdefault(dossier_id, {}).update(fields)
        self._save()

    def done(self, dossier_id: int, sent: dict[str, Any]) -> None:
        current = self.pending.get(dossier_id)
        if current is None:
            return
        for key, value in sent.items():
            if current.get(key) == value:
                del current[key]
        if not current:
            del self.pending[dossier_id]
        self._save()

    def _save(self) -> None:
        if self.journal is None:
            return
        tmp = self.journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.pending), encoding="utf-8")
        os.replace(tmp, self.journal)  # atomic: a crash leaves the old or the new journal


class HubClient:
    def __init__(
        self,
        url: str | Sequence[str],
        *,
        desk: str = "",
        journal: Path | None = None,
        reconnect: bool = True,
        trust: HubTrust | None = None,
    ):
        #: Every hub of the room (several hubs share one PostgreSQL): on a lost
        #: connection the client fails over to the next one.
        self.urls = [url] if isinstance(url, str) else list(url)
        if not self.urls:
            raise ValueError("au moins une adresse de hub")
        self.url = self.urls[0]
        #: How a wss:// hub's certificate is checked (system store, CA file, pinned).
        self.trust = trust or HubTrust()
        self.desk = desk
        self.reconnect = reconnect
        self.outbox = Outbox(journal)
        self.state = LinkState.DISCONNECTED
        self.welcome: Message = {}
        self.user: UserView | None = None
        #: This user's row of the hub's permission table (app.domain.permissions).
        self.permissions: Permissions = {"actions": [], "read_queues": [], "take_queues": []}
        #: How this desk's session was proven (login reply's ``auth``): "password", "psc"
        #: or "password_fallback"; kept when the session ends, for the re-proof.
        self.auth = ""
        self.snapshot: Snapshot | None = None
        self._token: str | None = None
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._sent_on: dict[int, ClientConnection] = {}  # the socket each request went on
        self._reader: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._flush_wanted = asyncio.Event()
        self._closing = False
        #: Each event as received (the desk's bus reads it as app.hub.payloads.EventMessage).
        self.on_event: list[Listener] = []
        #: How far a long intent of this account is (``progress`` messages: an import).
        self.on_progress: list[Listener] = []
        self.on_snapshot: list[Callable[[Snapshot], None]] = []
        self.on_state: list[Callable[[LinkState, str], None]] = []
        self.on_error: list[Callable[[HubError], None]] = []
        #: The hub ended this desk's session (idle, end of shift, logout elsewhere,
        #: account disabled): the desk asks for the password again, keeping its screen.
        self.on_session_ended: list[Listener] = []
        self.session_ended: Message | None = None
        self._joiner = Joiner()
        #: The newest view of each dossier seen (by its ``version``): events from two hubs
        #: may arrive in another order than they were committed (see docs/protocol.md).
        self.dossiers: dict[int, DossierView] = {}

    # -- connection ---------------------------------------------------------------

    async def connect(self) -> Message:
        """Open the socket and read the hub's welcome. Raises HubError if unreachable."""
        old, self._ws = self._ws, None
        if old is not None:
            # A reconnection whose resume failed left its socket open: a hub answering
            # it later would send every event twice (once per socket).
            await old.close()
        self._set_state(LinkState.CONNECTING, self.url)
        try:
            self._ws = await open_socket(
                self.url, self.trust, max_size=4 * 1024 * 1024, open_timeout=5
            )
            self.welcome = json.loads(await asyncio.wait_for(self._ws.recv(), 5))
        except CertificateRefused as exc:
            self._set_state(LinkState.DISCONNECTED, str(exc))
            raise HubError("certificate", str(exc)) from exc
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ConnectionClosed) as exc:
            self._set_state(LinkState.DISCONNECTED, str(exc))
            raise HubError("unreachable", f"hub injoignable à {self.url} : {exc}") from exc
        self._set_state(LinkState.CONNECTED, self.url)
        self._reader = asyncio.create_task(self._read_loop(), name="hub-client-reader")
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_loop(), name="hub-client-outbox")
        return self.welcome

    async def login(
        self, username: str, password: str, timeout: float = 10.0, *, fallback_reason: str = ""
    ) -> Message:
        """Password login; ``fallback_reason``: why a role that must use Pro Santé Connect
        logs in without it (the hub takes it only while PSC is unreachable)."""
        login = p.Login(
            username=username, password=password, desk=self.desk, fallback_reason=fallback_reason
        )
        return self.adopt(await self.send(login, timeout))

    def adopt(self, reply: Message) -> Message:
        """This desk is logged in with a login reply (password or Pro Santé Connect)."""
        login = as_reply(reply, LoginReply)
        self.session_ended = None
        self._token = login["token"]
        self.user = login["user"]
        self.auth = login["auth"] or "password"
        self.permissions = login["permissions"]
        return reply

    # -- Pro Santé Connect (the hub runs PSC's flows: docs/protocol.md) ------------

    async def psc_start(self, national_id: str, username: str = "") -> Message:
        """Ask PSC to reach the professional: ``request``, ``binding_message`` (the two
        digits to show), ``expires_in``, ``interval``. ``username``: the account being
        re-proved after its session ended."""
        return await self.call(
            p.LoginPscStart, national_id=national_id, desk=self.desk, username=username
        )

    async def psc_wait(self, request: str, expires_in: float) -> Message:
        """The login reply once PSC answered (not adopted: see :meth:`adopt`)."""
        return await self.call(p.LoginPscWait, expires_in + PSC_WAIT_MARGIN, request=request)

    async def psc_authorize(self, redirect_uri: str) -> Message:
        """PSC's authorization URL for the browser (PKCE, kept by the hub): ``url``, ``state``."""
        return await self.call(p.LoginPscAuthorize, redirect_uri=redirect_uri, desk=self.desk)

    async def psc_code(self, state: str, code: str) -> Message:
        """The code PSC redirected the browser with: the login reply (not adopted)."""
        return await self.call(p.LoginPscCode, 30.0, state=state, code=code)

    async def abandon_psc(self) -> None:
        """The user gave up waiting for PSC: open a new connection, so that an answer
        PSC still gives to the old one can never log this desk in behind their back."""
        if self._closing:  # the desk is quitting: close() ends the old connection
            return
        try:
            await self.connect()
        except HubError:
            if self.reconnect and (self._reconnector is None or self._reconnector.done()):
                self._reconnector = asyncio.get_running_loop().create_task(
                    self._reconnect(), name="hub-client-reconnect"
                )

    async def close(self) -> None:
        self._closing = True
        for task in (self._reconnector, self._flusher, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._ws is not None:
            await self._ws.close()
        self._set_state(LinkState.DISCONNECTED, "fermé")

    # -- requests -----------------------------------------------------------------

    async def send(self, intent: p.Intent, timeout: float = 10.0) -> Message:
        """Send one intent, built from the model the hub validates; wait for its reply."""
        wire = intent.wire()
        return await self.request(wire.pop("type"), timeout, **wire)

    async def call(self, model: type[p.Intent], timeout: float = 10.0, /, **fields: Any) -> Message:
        """Build ``model`` from ``fields`` and send it; a field the hub would refuse is
        refused here, with the hub's code (``invalid_message``), before anything is sent."""
        try:
            intent = model(**fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or 'message'}: {e['msg']}"
                for e in exc.errors(include_url=False)[:5]
            )
            raise HubError(
                "invalid_message", f"{p.intent_name(model)} invalide — {problems}"
            ) from None
        return await self.send(intent, timeout)

    async def request(self, type_: str, timeout: float = 10.0, **payload: Any) -> Message:
        """Send one raw message and wait for its reply; raises HubError on a refusal.

        Desk code sends intents with :meth:`send` or :meth:`call`; this raw form is for
        tests that must send what no model would build."""
        if self._ws is None or self.state is LinkState.DISCONNECTED:
            raise HubError("disconnected", "pas de connexion au hub")
        req_id = next(self._ids)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        self._sent_on[req_id] = self._ws
        try:
            await self._ws.send(
                json.dumps({"type": type_, "id": req_id, **payload}, default=_json_default)
            )
            reply = await asyncio.wait_for(future, timeout)
        except ConnectionClosed as exc:
            raise HubError("disconnected", "connexion au hub perdue") from exc
        except TimeoutError as exc:
            raise HubError("timeout", f"pas de réponse du hub à {type_}") from exc
        finally:
            self._pending.pop(req_id, None)
            self._sent_on.pop(req_id, None)
        if reply.get("type") == "error":
            raise HubError(
                reply.get("code", "error"), reply.get("message", ""), reply.get("details"), reply
            )
        return reply

    def save_fields(self, dossier_id: int, fields: dict[str, Any]) -> None:
        """Queue typed fields for the hub: journalled now, sent as soon as possible."""
        self.outbox.put(dossier_id, fields)
        self._flush_wanted.set()

    async def flush(self) -> None:
        """Send every pending update now (used before closing a dossier)."""
        for dossier_id, fields in list(self.outbox.pending.items()):
            sent = dict(fields)
            try:
                await self.call(fp.DossierUpdate, dossier_id=dossier_id, fields=sent)
            except HubError as exc:
                if exc.code in ("disconnected", "timeout"):
                    raise
                log.warning("update of dossier %s refused: %s", dossier_id, exc)
                for listener in self.on_error:
                    listener(exc)
            self.outbox.done(dossier_id, sent)

    # -- internals ----------------------------------------------------------------

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        self.state = state
        for listener in list(self.on_state):
            listener(state, detail)

    async def _read_loop(self) -> None:
        ws = self._ws  # this reader's socket: a reconnection opens another
        assert ws is not None
        try:
            async for raw in ws:
                self._dispatch(json.loads(raw))
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("hub client reader failed")
        finally:
            for req_id, future in list(self._pending.items()):
                if not future.done() and self._sent_on.get(req_id) is ws:
                    future.set_exception(HubError("disconnected", "connexion au hub perdue"))
            if not self._closing and ws is self._ws:  # a replaced socket's end is no news
                self._set_state(LinkState.DISCONNECTED, "connexion perdue")
                # One reconnector at a time: a hub lost again during a resume ends
                # that reader too, while the running reconnector goes on trying.
                running = self._reconnector is not None and not self._reconnector.done()
                if self.reconnect and not running:
                    self._reconnector = asyncio.get_running_loop().create_task(
                        self._reconnect(), name="hub-client-reconnect"
                    )

    def _dispatch(self, msg: Message) -> None:
        kind = msg.get("type")
        if kind == "part":  # a large message, in parts (app.hub.framing)
            try:
                joined = self._joiner.add(msg)
            except ValueError as exc:
                log.error("hub message in parts dropped: %s", exc)
                return
            if joined is not None:
                self._dispatch(joined)
            return
        if kind == "session.ended":
            self._token = None
            self.user = None
            self.session_ended = msg
            for slistener in list(self.on_session_ended):
                slistener(msg)
            return
        if kind in ("ok", "error", "pong") and isinstance(msg.get("re"), int):
            future = self._pending.get(msg["re"])
            if future is not None and not future.done():
                future.set_result(msg)
            return
        if kind == "snapshot":
            snapshot = cast(Snapshot, msg)
            self.snapshot = snapshot
            self.dossiers = {d["id"]: d for d in snapshot["dossiers"]}
            self._set_state(LinkState.READY, "")
            for snap_listener in list(self.on_snapshot):
                snap_listener(snapshot)
            self._flush_wanted.set()
        elif kind == "progress":
            for plistener in list(self.on_progress):
                plistener(msg)
        elif kind == "event":
            msg = self._newest(msg)
            for listener in list(self.on_event):
                listener(msg)
        elif kind == "error":
            err = HubError(msg.get("code", "error"), msg.get("message", ""))
            for elistener in list(self.on_error):
                elistener(err)

    def _newest(self, msg: Message) -> Message:
        """The event, carrying the newest view of its dossier (never an older one)."""
        event = cast(EventMessage, msg)
        view = event.get("dossier")
        if view is None or not isinstance(view.get("version"), int):
            return msg  # a hub that sends no version: nothing to compare
        known = self.dossiers.get(view["id"])
        if known is not None and known["version"] > view["version"]:
            return {**msg, "dossier": known}
        self.dossiers[view["id"]] = view
        return msg

    async def _reconnect(self) -> None:
        for attempt in itertools.count():
            if self._closing:
                return
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            try:
                await self.connect()
                if self._token:
                    await self.send(p.Resume(token=self._token, desk=self.desk))
                return
            except HubError as exc:
                if exc.code == "session_expired":
                    self._token = None
                    self._set_state(LinkState.CONNECTED, exc.message)
                    return
                log.info("reconnect attempt %d failed: %s", attempt + 1, exc)
                self.url = self.urls[(self.urls.index(self.url) + 1) % len(self.urls)]

    async def _flush_loop(self) -> None:
        while not self._closing:
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            if self.state is not LinkState.READY:
                continue
            try:
                await self.flush()
            except HubError:
                pass  # reconnection will set the flag again


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
