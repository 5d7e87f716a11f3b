"""The hub's websocket server: one connection per desk, one writer for the database."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.orm import Session
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import app
from app.config.settings import HubSettings
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.types import utcnow
from app.domain.rules import FlowError
from app.hub import protocol as p
from app.hub.connection import DeskConnection, Outbox
from app.hub.extensions import Extension, Installed
from app.hub.group_commit import GroupCommit
from app.hub.login_sessions import SessionKeeper
from app.hub.payloads import DemoAccount, Welcome
from app.hub.psc_login import PscLogins
from app.hub.service import HubService, Outgoing
from app.hub.session_intents import SessionIntents
from app.hub.tls import check_listen, file_fingerprint, server_context
from app.hub.visibility import Audience

if TYPE_CHECKING:
    from app.hub.fanout import PgFanout

log = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E", bound=Extension)
#: Builds a room's features on the hub's kernel service (app.room gives the room's).
Features = Callable[[HubService], Sequence[Extension]]

#: The transport refuses frames above this; our own, smaller limit answers with an error.
TRANSPORT_MAX_BYTES = 4 * 1024 * 1024


class RoomDemo(Protocol):
    """A training room (``--demo``): the command line gives one (``app.demo.seed.Demo``),
    the hub seeds it after its migrations and lists its accounts to every desk."""

    def seed(self, session: Session, territory: Path | None) -> bool: ...

    def accounts(self, session: Session) -> list[DemoAccount]: ...


class Hub:
    def __init__(
        self,
        db_url: str,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        demo: RoomDemo | None = None,
        clock: Callable[[], datetime] = utcnow,
        settings: HubSettings | None = None,
        features: Features | None = None,
    ):
        #: CLOCK_MONOTONIC readings at each step of the start (logged as ``hub.started``;
        #: ``sasdesk bench hubstart`` reads them). The command line adds its own first.
        self.marks: dict[str, float] = {}
        #: The room's configuration; the positional arguments win over it.
        self.settings = settings or HubSettings()
        self.db_url = db_url
        self.host = host
        self.port = port
        self.demo = demo
        self.engine = make_engine(db_url)
        self.service = HubService(make_sessionmaker(self.engine), clock, self.settings)
        #: Logins, throttling, and the end of sessions (idle, shift, logout, disabled).
        self.sessions = SessionKeeper(self)
        #: Pro Santé Connect logins and the room's policy per role.
        self.psc = PscLogins(self, self.sessions)
        self.sessions.policy = self.psc
        #: The kernel's session intents first, then the room's features; strict: an
        #: intent without a handler stops the hub here, named.
        own = SessionIntents(self, self.sessions, self.psc, self.service.snapshot)
        self.extensions = Installed(
            self.service, [own, *(features(self.service) if features is not None else ())]
        )
        self.extensions.check()
        #: The intents this hub speaks: those its extensions answer, registered here.
        self.wire = self.extensions.wire()
        self.marks["extensions_installed"] = time.monotonic()
        # The single writer: every database unit of work runs here, in arrival order.
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-writer")
        #: Desks' intents reach the writer through here, several per transaction under load.
        self.group = GroupCommit(self.service, self.writer)
        # Read-only intents (reports) run here, beside the writer (SQLite WAL, PostgreSQL MVCC).
        self.readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hub-reader")
        self.connections: set[DeskConnection] = set()
        #: Every frame to the desks goes out through here, one write per desk and turn.
        self.outbox = Outbox()
        self._server: Server | None = None
        self._welcome: str = ""
        self.fanout: PgFanout | None = None  # on PostgreSQL
        #: Plain ws:// off loopback, by the administrator's explicit --insecure.
        self.insecure = False

    def extension(self, kind: type[E]) -> E:
        """The installed feature of this class (its state: a scheduler, an endpoint)."""
        return self.extensions.get(kind)

    def clock(self) -> datetime:
        return self.service.clock()

    @property
    def tls(self) -> bool:
        return self.settings.tls.enabled

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        # Before anything else: a hub that must not listen fails at once, and says why.
        self.insecure = check_listen(self.host, self.settings.tls)
        ssl_context = server_context(self.settings.tls)
        await self._run(self._prepare_database)
        self.marks["database_ready"] = time.monotonic()
        loop = asyncio.get_running_loop()

        def live(out: list[Outgoing]) -> None:
            loop.call_soon_threadsafe(self._broadcast, out)

        self.service.live = live
        await self.extensions.start(self)
        self.marks["extensions_started"] = time.monotonic()
        if self.engine.dialect.name == "postgresql":
            # Other hubs may share this database: hear their events, tell ours.
            from app.hub.fanout import PgFanout  # psycopg: the shared deployment's extra

            self.fanout = PgFanout(
                self.engine, self._send_event, self.service.event_message, self._resync_all
            )
            self.service.notifier = self.fanout.notify
            self.fanout.on_end = self.sessions.on_announced
            self.fanout.start()
            await asyncio.wait_for(self.fanout.listening.wait(), 30)
        self._server = await serve(
            self._serve_desk,
            self.host,
            self.port,
            max_size=TRANSPORT_MAX_BYTES,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=2,
            ssl=ssl_context,
            # No permessage-deflate by default: each desk's connection compresses every
            # event again on the hub's loop (12 % of the hub's CPU at 100 desks, py-spy) to
            # save a LAN a few kB. A room whose desks sit behind a slow link turns it on
            # (``[ecoute] compression = true``).
            compression="deflate" if self.settings.compression else None,
        )
        self.sessions.start()
        sockname = next(iter(self._server.sockets)).getsockname()
        self.port = sockname[1]
        self.marks["listening"] = time.monotonic()
        log.info("%s", json.dumps({"event": "hub.started", "marks": self.marks}))
        log.info(
            "hub listening on %s (%s)",
            self.url,
            self.engine.url.render_as_string(hide_password=True),
        )
        if self.settings.tls.cert is not None:
            log.info(
                "TLS certificate %s, SHA-256 fingerprint %s",
                self.settings.tls.cert,
                file_fingerprint(self.settings.tls.cert),
            )
        if self.insecure:
            log.warning(
                "INSECURE: plain ws:// without TLS on %s (--insecure): passwords and "
                "dossiers cross the network unencrypted",
                self.host,
            )

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.sessions.stop()
        await self.psc.stop()
        if self.fanout is not None:
            await self.fanout.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.extensions.stop(self)
        self.writer.shutdown(wait=True)
        self.readers.shutdown(wait=True)
        self.engine.dispose()

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    def _prepare_database(self) -> None:
        upgrade(self.engine)
        with self.service.sessions.begin() as s:
            if self.demo is not None:
                self.demo.seed(s, self.settings.territory.file)
        self._welcome = self._welcome_frame()

    def _welcome_frame(self) -> str:
        """Only a hub started with --demo lists demo accounts, and only those whose
        password is still the demo one (read again for every connection)."""
        accounts: list[DemoAccount] = []
        if self.demo is not None:
            with self.service.sessions() as s:
                accounts = self.demo.accounts(s)
        welcome: Welcome = {
            "type": "welcome",
            "protocol": p.PROTOCOL_VERSION,
            "hub": app.__version__,
            "demo": self.demo is not None,
            "demo_accounts": accounts,
            "tls": self.tls,
            "insecure": self.insecure,
            "psc": self.psc.welcome(),
        }
        return json.dumps(welcome)

    async def run_in_writer(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a unit of work on the single writer (extensions use it too)."""
        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)

    _run = run_in_writer

    # -- one desk -----------------------------------------------------------------

    async def _serve_desk(self, ws: ServerConnection) -> None:
        conn = DeskConnection(ws, self.outbox)
        self.connections.add(conn)
        try:
            welcome = self._welcome
            if self.demo is not None:
                welcome = await asyncio.get_running_loop().run_in_executor(
                    self.readers, self._welcome_frame
                )
            await ws.send(welcome)
            async for raw in ws:
                await self._on_message(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self.connections.discard(conn)

    async def _on_message(self, conn: DeskConnection, raw: str | bytes) -> None:
        try:
            intent = p.parse_intent(raw, self.wire)
            await self._dispatch(conn, intent)
        except p.ProtocolError as exc:
            await conn.send(exc.reply())
        except FlowError as exc:
            re = getattr(locals().get("intent"), "id", None)
            reply = p.ProtocolError(exc.code, exc.message, re).reply()
            await conn.send({**exc.extra, **reply})
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("intent failed")
            re = getattr(locals().get("intent"), "id", None)
            err = p.ProtocolError(
                "internal",
                "erreur interne du hub : l'action n'a pas été enregistrée, réessayez",
                re,
            )
            await conn.send(err.reply())

    async def _dispatch(self, conn: DeskConnection, intent: p.Intent) -> None:
        desk = self.extensions.desk.get(type(intent))
        if desk is not None and desk.before_login:
            await desk.serve(conn, intent)
            return
        if conn.principal is None:
            raise p.ProtocolError("unauthenticated", "connectez-vous d'abord (login)", intent.id)
        conn.last_active = self.service.clock()
        if desk is not None:  # logout, a password change (argon2: off the writer)
            await desk.serve(conn, intent)
            return
        if intent.read_only:
            outcome = await asyncio.get_running_loop().run_in_executor(
                self.readers, self.service.handle, conn.principal, intent
            )
        else:
            outcome = await self.group.submit(conn.principal, intent)
        await conn.send(outcome.reply)
        self._broadcast(outcome.events)

    def _resync_all(self) -> None:
        """Send every logged-in desk a fresh snapshot (after missing other hubs' events)."""
        for conn in list(self.connections):
            if conn.principal is not None:
                asyncio.get_running_loop().create_task(self._resync(conn))

    async def _resync(self, conn: DeskConnection) -> None:
        assert conn.principal is not None
        snapshot = await self._run(self.service.snapshot, conn.principal)
        if conn.principal is None:
            return  # the session ended meanwhile
        try:
            await conn.send(snapshot)
        except ConnectionClosed:
            pass

    def broadcast(self, events: list[Outgoing]) -> None:
        """Send events to the connected desks allowed to see them (extensions use it)."""
        self._broadcast(events)

    def _broadcast(self, events: list[Outgoing]) -> None:
        for out in events:
            targets = self._admitted(out.audience)
            if targets:  # encoded once for all, and not at all if no desk here may see it
                self._send_all(targets, out.encoded())

    def _send_event(self, text: str, audience: Audience) -> None:
        """Another hub's event (PostgreSQL NOTIFY), as that hub encoded it."""
        targets = self._admitted(audience)
        if targets:
            self._send_all(targets, text)

    def _admitted(self, audience: Audience) -> list[ServerConnection]:
        return [
            c.ws
            for c in self.connections
            if c.principal is not None and audience.admits(c.principal)
        ]

    def _send_all(self, targets: list[ServerConnection], text: str) -> None:
        data = text.encode()
        frame = self.outbox.frame(data)
        for ws in targets:
            try:
                self.outbox.put(ws, data, frame)
            except Exception as exc:  # as websockets' broadcast: the other desks still get it
                log.warning("skipped an event to a desk: %s", exc)
