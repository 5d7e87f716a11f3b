"""The FHIR slot client on the hub: a refresh on a schedule and on a desk's demand.

Off unless ``HubSettings.fhir.editors`` names at least one agenda editor. Each
editor's pull ends in one transaction on the writer thread and one event:
``agenda.changed`` (``action`` ``fhir_refreshed``, the search panels refresh) or
``directory.refresh_failed`` (timeout or error, with the reason).

``HubSettings.fhir.ror`` adds the ROR (CPTS and intervention zones), pulled by the
same client on its own schedule (``ror_refresh_minutes``) and on demand
(``directory.refresh`` naming ``ROR``): one transaction, ``agenda.changed`` with
``action`` ``ror_refreshed``, or ``directory.refresh_failed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.config.settings import FhirEditorSettings
from app.directory.hub import directory_audience
from app.directory.imports.common import ImportReport
from app.directory.imports.fhir import write_bundles
from app.directory.imports.ror import write_resources
from app.domain.permissions import Action, require
from app.domain.rules import FlowError
from app.hub.context import HubContext
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler
from app.hub.protocol import Intent
from app.hub.service import HubService, Outgoing, Unit
from app.interop.fhir_client import PullResult, SlotPuller, ror_pages, withdraw_missing
from app.interop.protocol import DirectoryRefresh, RefreshReply


class FhirHub(Extension):
    """Slots pulled from the editors' FHIR servers and the ROR, and the refresh intent."""

    name = "app.interop.fhir"
    protocol: tuple[type[Intent], ...] = (DirectoryRefresh,)

    def __init__(self, service: HubService):
        self.service = service
        self.puller: SlotPuller | None = None
        self.ror: SlotPuller | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.hub: HubContext | None = None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {DirectoryRefresh: self.refresh}

    # -- the intent (writer thread) --------------------------------------------------

    def refresh(self, u: Unit, i: DirectoryRefresh) -> RefreshReply:
        assert u.actor is not None
        require(u.actor.role, Action.SEARCH_SLOTS)
        loop = self.loop
        pullers = [p for p in (self.puller, self.ror) if p is not None]
        if not pullers or loop is None:
            raise FlowError("invalid_state", "aucun agenda FHIR n'est configuré sur ce hub")
        known = {e.name: (p, e) for p in pullers for e in p.editors}
        unknown = [n for n in i.editors if n not in known]
        if unknown:
            raise FlowError("not_found", f"éditeur(s) inconnu(s) : {', '.join(unknown)}")
        # Asked for nothing in particular: the agendas (the ROR has its own schedule).
        default = self.puller.editors if self.puller else self.ror.editors if self.ror else ()
        names = list(i.editors) or [e.name for e in default]
        chosen = [known[n] for n in names]
        loop.call_soon_threadsafe(lambda: [p.start_one(e) for p, e in chosen])
        return {"refresh": {"editors": names, "started": True}}

    # -- a pull's end (writer thread) ------------------------------------------------

    def _write(
        self,
        editor: FhirEditorSettings,
        pages: list[dict[str, Any]],
        start: datetime,
        end: datetime,
    ) -> tuple[PullResult, list[Outgoing]]:
        """An agenda editor's free slots; its slots no longer offered are withdrawn."""

        def write(u: Unit, result: PullResult) -> None:
            result.report = ImportReport("créneaux FHIR", editor.name)
            prefix = f"{editor.name}:"
            w = write_bundles(u.s, result.report, pages, ref_prefix=prefix)
            result.withdrawn = withdraw_missing(u.s, prefix, w.refs_in_file, start, end, w.rev)

        return self._unit(editor, pages, "fhir_refreshed", write)

    def _write_ror(
        self,
        server: FhirEditorSettings,
        pages: list[dict[str, Any]],
        _start: datetime,
        _end: datetime,
    ) -> tuple[PullResult, list[Outgoing]]:
        """The ROR's CPTS and their zones (app.directory.imports.ror)."""

        def write(u: Unit, result: PullResult) -> None:
            result.report = ImportReport("zones des CPTS (ROR)", server.name)
            resources = [
                e["resource"]
                for page in pages
                for e in page.get("entry") or []
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            ]
            write_resources(u.s, result.report, resources)

        return self._unit(server, pages, "ror_refreshed", write)

    def _unit(
        self,
        server: FhirEditorSettings,
        pages: list[dict[str, Any]],
        action: str,
        write: Callable[[Unit, PullResult], None],
    ) -> tuple[PullResult, list[Outgoing]]:
        """One transaction for one server's pull, and its ``agenda.changed`` event."""
        result = PullResult(server.name, pages=len(pages))

        def work(u: Unit) -> PullResult:
            write(u, result)
            u.emit(
                EventName.AGENDA_CHANGED, directory_audience(), action=action, **result.to_dict()
            )
            return result

        return self.service.run_unit(work)

    async def write(
        self,
        editor: FhirEditorSettings,
        pages: list[dict[str, Any]],
        start: datetime,
        end: datetime,
    ) -> PullResult:
        writer = self._write_ror if self.ror and editor in self.ror.editors else self._write
        assert self.hub is not None  # pulls run only once started
        result, events = await self.hub.run_in_writer(writer, editor, pages, start, end)
        self.hub.broadcast(events)
        return result

    async def pulled(self, result: PullResult) -> None:
        """Tell the desks about a pull that failed (a successful one already did)."""
        if result.status == "ok":
            return

        def failed(u: Unit) -> None:
            u.emit(EventName.DIRECTORY_REFRESH_FAILED, directory_audience(), **result.to_dict())

        assert self.hub is not None
        _, events = await self.hub.run_in_writer(self.service.run_unit, failed)
        self.hub.broadcast(events)

    # -- lifecycle (the hub's loop) --------------------------------------------------

    async def start(self, ctx: HubContext) -> None:
        hub = ctx
        settings = hub.settings.fhir
        if not settings.editors and settings.ror is None:
            return
        self.hub = hub
        self.loop = asyncio.get_running_loop()
        self.scheduler = AsyncIOScheduler()
        self.scheduler.start()
        if settings.ror is not None:
            self.ror = SlotPuller(
                (settings.ror,), self.write, self.service.clock, on_result=self.pulled,
                fetch=ror_pages,
            )  # fmt: skip
            self.scheduler.add_job(
                self.ror.refresh,
                IntervalTrigger(minutes=settings.ror_refresh_minutes),
                id="ror-refresh",
                coalesce=True,
                max_instances=1,
            )
            self.ror.start_one(settings.ror)
        if not settings.editors:
            return
        self.puller = SlotPuller(
            settings.editors,
            self.write,
            self.service.clock,
            timedelta(hours=settings.window_hours),
            self.pulled,
        )
        self.scheduler.add_job(
            self.puller.refresh,
            IntervalTrigger(minutes=settings.refresh_minutes),
            id="fhir-refresh",
            coalesce=True,
            max_instances=1,
        )
        for editor in settings.editors:
            self.puller.start_one(editor)

    async def stop(self, ctx: HubContext) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for puller in (self.puller, self.ror):
            if puller is None:
                continue
            tasks = [t for t in puller.running.values() if not t.done()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.puller = None
        self.ror = None
        self.loop = None
