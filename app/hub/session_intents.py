"""The session intents (login, resume, logout, ping, password change, Pro Santé Connect)
as the kernel's own extension: answered on the desk's connection, not in a unit of work.

A login (by password, token or PSC) is answered with the session and then the snapshot
of everything the user may see; the other intents need a session first, except ping and
PSC's first steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from websockets.exceptions import ConnectionClosed

from app.hub import protocol as p
from app.hub.auth import Principal
from app.hub.connection import DeskConnection
from app.hub.context import DeskHubContext
from app.hub.extensions import DeskHandler, Extension
from app.hub.login_sessions import Opened, SessionKeeper, ok_reply
from app.hub.payloads import LoginReply, Snapshot
from app.hub.psc_login import PscLogins


class SessionIntents(Extension):
    """Logins and their sessions, served by the hub's own keepers."""

    name = "app.hub.session_intents"
    protocol = p.SESSION_INTENTS

    def __init__(
        self,
        hub: DeskHubContext,
        sessions: SessionKeeper,
        psc: PscLogins,
        snapshot: Callable[[Principal], Snapshot],
    ):
        self.hub = hub
        self.sessions = sessions
        self.psc = psc
        self.snapshot = snapshot

    def desk_handlers(self) -> Mapping[type[p.Intent], DeskHandler]:
        return {
            p.Ping: DeskHandler(self.ping, before_login=True),
            p.LoginPscStart: DeskHandler(self.psc_start, before_login=True),
            p.LoginPscAuthorize: DeskHandler(self.psc_authorize, before_login=True),
            p.Login: DeskHandler(self.login, before_login=True),
            p.Resume: DeskHandler(self.resume, before_login=True),
            p.LoginPscWait: DeskHandler(self.psc_wait, before_login=True),
            p.LoginPscCode: DeskHandler(self.psc_code, before_login=True),
            p.Logout: DeskHandler(self.logout),
            p.PasswordChange: DeskHandler(self.change_password),
        }

    async def ping(self, conn: DeskConnection, intent: p.Ping) -> None:
        await conn.send({"type": "pong", "re": intent.id})

    async def psc_start(self, conn: DeskConnection, intent: p.LoginPscStart) -> None:
        await conn.send(ok_reply(intent, await self.psc.start(conn, intent)))

    async def psc_authorize(self, conn: DeskConnection, intent: p.LoginPscAuthorize) -> None:
        await conn.send(ok_reply(intent, await self.psc.authorize(conn, intent)))

    async def login(self, conn: DeskConnection, intent: p.Login) -> None:
        await self._logged_in(conn, intent, await self.sessions.login(conn, intent))

    async def resume(self, conn: DeskConnection, intent: p.Resume) -> None:
        await self._logged_in(conn, intent, await self.sessions.resume(conn, intent))

    async def psc_wait(self, conn: DeskConnection, intent: p.LoginPscWait) -> None:
        opened = await self.psc.wait(conn, intent)
        await self._logged_in(conn, intent, await self._proven(conn, opened))

    async def psc_code(self, conn: DeskConnection, intent: p.LoginPscCode) -> None:
        opened = await self.psc.code(conn, intent)
        await self._logged_in(conn, intent, await self._proven(conn, opened))

    async def logout(self, conn: DeskConnection, intent: p.Logout) -> None:
        await self.sessions.logout(conn)
        await conn.send({"type": "ok", "re": intent.id})

    async def change_password(self, conn: DeskConnection, intent: p.PasswordChange) -> None:
        # argon2: off the writer
        await conn.send(ok_reply(intent, await self.sessions.change_password(conn, intent)))

    async def _logged_in(self, conn: DeskConnection, intent: p.Intent, reply: LoginReply) -> None:
        assert conn.principal is not None
        snapshot = await self.hub.run_in_writer(self.snapshot, conn.principal)
        await conn.send(ok_reply(intent, reply))
        await conn.send(snapshot)

    async def _proven(self, conn: DeskConnection, opened: Opened) -> LoginReply:
        """PSC's answer, awaited; the session attached only if the desk is still there."""
        if not conn.open:  # the desk left while PSC was asked
            await self.sessions.end_opened(opened)
            raise ConnectionClosed(None, None)
        return opened.attach(conn)
