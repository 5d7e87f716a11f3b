"""The hub's FHIR endpoint for editors' appointment feedback, over HTTPS with mutual TLS.

``POST [base]/Appointment`` (create) and ``PUT [base]/Appointment?identifier=…``
(conditional update) as the SAS guide's INT_R03 defines them, on aiohttp (no HTTP
parsed by hand). The guide's security page asks for mTLS 1.2 with the IGC Santé
authority and a check of the client certificate's CN and OU: the TLS handshake refuses
a client without a certificate or with one of another authority (so such a client
never reaches the application), and a middleware refuses, before any handler, a
certificate whose CN/OU is not a configured editor. What the body says is read by
``app.appointments.fhir``; what it changes is the sink's business (one transaction).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from app.appointments.fhir import (
    MAX_BODY_BYTES,
    FhirAppointment,
    Issue,
    Refused,
    identifier_of_query,
    parse,
)
from app.appointments.settings import EditorCertificate

__all__ = ["AppointmentEndpoint", "AppointmentSink", "Applied", "EditorCertificate", "server_tls"]

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
#: The configured editor whose certificate the request came with.
EDITOR_KEY = web.RequestKey("editor", str)


@dataclass(frozen=True)
class Applied:
    """What the sink did: ``created`` answers 201, otherwise 200; ``id`` is our logical id."""

    id: str
    created: bool


class AppointmentSink(Protocol):
    """Where checked appointments go (the hub's store, in one transaction each)."""

    async def create(self, appointment: FhirAppointment, editor: str) -> Applied: ...

    async def update(
        self, target: tuple[str | None, str], appointment: FhirAppointment, editor: str
    ) -> Applied: ...

    async def refused(
        self, sender: str, identifier: str, answer: int, issues: Sequence[Issue]
    ) -> None:
        """Journal a request refused before it reached ``create``/``update``."""


def server_tls(cert: Path, key: Path, client_ca: Path) -> ssl.SSLContext:
    """TLS 1.2 or newer, a client certificate required and checked against ``client_ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(client_ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def subject_of(peercert: dict[str, Any] | None) -> tuple[str, str]:
    """The (CN, OU) of a peer certificate as ``ssl`` gives it; empty strings when absent."""
    fields: dict[str, str] = {}
    for rdn in (peercert or {}).get("subject", ()):
        for name, value in rdn:
            fields.setdefault(name, value)
    return fields.get("commonName", ""), fields.get("organizationalUnitName", "")


def _answer(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, ensure_ascii=False), content_type=FHIR_JSON
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AppointmentEndpoint:
    """The FHIR appointment endpoint; ``base`` is the path the editors are given."""

    def __init__(
        self,
        sink: AppointmentSink,
        editors: list[EditorCertificate],
        *,
        base: str = "/fhir",
    ):
        self.sink = sink
        self.editors = {(e.common_name, e.unit): e for e in editors}
        self.base = base.rstrip("/")
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self._editor_only])
        app.router.add_post(f"{self.base}/Appointment", self._create)
        app.router.add_put(f"{self.base}/Appointment", self._update)
        return app

    async def start(self, host: str, port: int, tls: ssl.SSLContext) -> int:
        # An editor still sending a refused body is not waited for at shutdown.
        self.runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, ssl_context=tls)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp exposes no public bound port
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return self.port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @web.middleware
    async def _editor_only(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        cn, ou = subject_of(
            request.transport.get_extra_info("peercert") if request.transport else None
        )
        if (cn, ou) not in self.editors:
            log.warning(
                "appointment endpoint: certificate CN=%r OU=%r is no configured editor", cn, ou
            )
            issue = Issue("forbidden", "Appointment", "certificat client non autorisé (CN/OU)")
            return await self._refuse(f"CN={cn} OU={ou}", "", Refused(403, [issue]))
        request[EDITOR_KEY] = self.editors[(cn, ou)].name
        return await handler(request)

    async def _read(self, request: web.Request) -> FhirAppointment:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refused(
                413, [Issue("too-long", "Appointment", f"corps de plus de {MAX_BODY_BYTES} octets")]
            ) from None
        return parse(body)

    async def _create(self, request: web.Request) -> web.Response:
        editor = request[EDITOR_KEY]
        try:
            appointment = await self._read(request)
        except Refused as refused:
            return await self._refuse(editor, "", refused)
        return await self._applied(lambda: self.sink.create(appointment, editor))

    async def _update(self, request: web.Request) -> web.Response:
        editor = request[EDITOR_KEY]
        try:
            target = identifier_of_query(dict(request.query))
            appointment = await self._read(request)
        except Refused as refused:
            return await self._refuse(editor, "", refused)
        return await self._applied(lambda: self.sink.update(target, appointment, editor))

    async def _applied(self, apply: Callable[[], Awaitable[Applied]]) -> web.Response:
        try:
            applied = await apply()
        except Refused as refused:  # the sink journalled it
            return _answer(refused.status, refused.outcome())
        except Exception:
            # The database failed (rolled back: nothing was kept). The guide's failure
            # answer still carries an OperationOutcome; the editor sends it again later,
            # and a copy that did reach the database is then a replay.
            log.exception("appointment endpoint: the feedback could not be recorded")
            issue = Issue("exception", "Appointment", "enregistrement impossible, réessayez")
            return _answer(500, Refused(500, [issue]).outcome())
        return web.Response(
            status=201 if applied.created else 200,
            headers={"Location": f"{self.base}/Appointment/{applied.id}"},
        )

    async def _refuse(self, who: str, identifier: str, refused: Refused) -> web.Response:
        """A request refused before the sink's create/update: journalled, then answered."""
        await self.sink.refused(who, identifier, refused.status, refused.issues)
        return _answer(refused.status, refused.outcome())
