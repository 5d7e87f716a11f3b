"""Pull free slots from agenda editors' FHIR endpoints (SAS implementation guide).

The search is the guide's slot aggregation: ``Slot?start=ge…&start=le…&status=free``
with the ``_include``s that bring the Schedule, its actors (PractitionerRole →
Practitioner, Location) and the CPTS (Slot's service-type reference →
HealthcareService → Organization); every page is followed through its ``next``
link. The Bundles go through the same import as ``sasdesk import slots FILE.json``
(``app.directory.imports.fhir``), one editor at a time, each in its own
transaction; slots of that editor that are no longer offered in the window are
withdrawn. Each editor has its own deadline and its own failure: one slow or broken
editor never holds up the others.

The ROR (CPTS and their intervention zones) is pulled by the same puller with another
search (``ror_pages``: ``HealthcareService`` with its Organization, paged the same way)
and written by ``app.directory.imports.ror``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import update

from app.config.settings import FhirEditorSettings
from app.directory.imports.common import ImportAborted, ImportReport
from app.directory.imports.fhir import parse_bundle
from app.directory.models import Slot

log = logging.getLogger(__name__)

#: The includes of the guide's slot aggregation search (PS indiv, CPTS, SOS).
INCLUDES = (
    ("_include", "Slot:schedule"),
    ("_include:iterate", "Schedule:actor"),
    ("_include:iterate", "PractitionerRole:practitioner"),
    ("_include:iterate", "PractitionerRole:location"),
    ("_include", "Slot:service-type-reference"),
    ("_include:iterate", "HealthcareService:organization"),
)
#: A runaway server that pages forever is stopped here.
MAX_PAGES = 100


#: The ROR's CPTS offers: category 604 of TRE_R66 (CPTS) on the offer's organization,
#: and that organization included (ROR-fhir-documentation, RORHealthcareService).
ROR_CPTS = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement|604"


def ror_search_url(server: FhirEditorSettings) -> str:
    params = [
        ("organization.type", ROR_CPTS),
        ("_include", "HealthcareService:organization"),
        ("_count", str(server.page_size)),
    ]
    return f"{server.base_url.rstrip('/')}/HealthcareService?{urlencode(params)}"


def search_url(editor: FhirEditorSettings, start: datetime, end: datetime) -> str:
    params = [
        ("start", f"ge{start.isoformat(timespec='seconds')}"),
        ("start", f"le{end.isoformat(timespec='seconds')}"),
        ("status", "free"),
        *INCLUDES,
        ("_count", str(editor.page_size)),
    ]
    return f"{editor.base_url.rstrip('/')}/Slot?{urlencode(params)}"


@dataclass
class PullResult:
    """What one editor gave: shown to the desks and in the log."""

    editor: str
    status: str = "ok"  # ok | timeout | error
    error: str = ""
    pages: int = 0
    seconds: float = 0.0
    report: ImportReport | None = None
    withdrawn: int = 0

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "editor": self.editor,
            "status": self.status,
            "error": self.error,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "accepted": r.accepted if r else 0,
            "created": r.created if r else 0,
            "updated": r.updated if r else 0,
            "rejected": [{"where": w, "why": y} for w, y in r.rejected] if r else [],
            "warnings": [{"where": w, "why": y} for w, y in r.warnings] if r else [],
            "withdrawn": self.withdrawn,
        }


def _verify(editor: FhirEditorSettings) -> ssl.SSLContext | bool:
    if editor.ca_file is None and editor.cert_file is None:
        return True
    context = ssl.create_default_context(cafile=str(editor.ca_file) if editor.ca_file else None)
    if editor.cert_file is not None:
        context.load_cert_chain(
            str(editor.cert_file), str(editor.key_file) if editor.key_file else None
        )
    return context


async def fetch_pages(
    editor: FhirEditorSettings, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Every page of the editor's slot search, or an exception (HTTP error…)."""
    return await fetch_search(editor, search_url(editor, start, end))


async def ror_pages(
    server: FhirEditorSettings, _start: datetime, _end: datetime
) -> list[dict[str, Any]]:
    """Every page of the ROR's search of CPTS offers (no time window: the whole set)."""
    return await fetch_search(server, ror_search_url(server))


async def fetch_search(editor: FhirEditorSettings, first: str) -> list[dict[str, Any]]:
    """Every page of a search from its first URL, following ``next`` links, or an
    exception (HTTP error, not a Bundle, endless paging…)."""
    headers = {"Accept": "application/fhir+json", **dict(editor.headers)}
    if editor.token:
        headers["Authorization"] = f"Bearer {editor.token}"
    pages: list[dict[str, Any]] = []
    url: str | None = first
    seen: set[str] = set()
    async with httpx.AsyncClient(
        headers=headers, verify=_verify(editor), timeout=editor.timeout_s
    ) as client:
        while url is not None:
            if url in seen or len(pages) >= MAX_PAGES:
                raise ValueError(f"pagination sans fin ({len(pages)} pages, {url})")
            seen.add(url)
            response = await client.get(url)
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code} sur {url}")
            bundle = parse_bundle(response.content, ImportReport("fhir", url))
            pages.append(bundle)
            url = next(
                (
                    str(link.get("url"))
                    for link in bundle.get("link") or []
                    if link.get("relation") == "next" and link.get("url")
                ),
                None,
            )
    return pages


Writer = Callable[
    [FhirEditorSettings, list[dict[str, Any]], datetime, datetime], Awaitable[PullResult]
]
Fetcher = Callable[[FhirEditorSettings, datetime, datetime], Awaitable[list[dict[str, Any]]]]


@dataclass
class SlotPuller:
    """Pull every configured editor at once, each on its own deadline."""

    editors: tuple[FhirEditorSettings, ...]
    write: Writer  # imports one editor's pages (the hub runs it on its writer thread)
    clock: Callable[[], datetime]
    window: timedelta = timedelta(hours=72)
    #: Told of every pull's result, successful or not (the hub tells the desks).
    on_result: Callable[[PullResult], Awaitable[None]] | None = None
    running: dict[str, asyncio.Task[PullResult]] = field(default_factory=dict)
    #: What is searched: the editors' free slots, or the ROR's CPTS (``ror_pages``).
    fetch: Fetcher = fetch_pages

    async def pull_one(self, editor: FhirEditorSettings) -> PullResult:
        started = time.monotonic()
        now = self.clock()
        result = PullResult(editor.name)
        try:
            pages = await asyncio.wait_for(
                self.fetch(editor, now, now + self.window), editor.timeout_s
            )
            result = await self.write(editor, pages, now, now + self.window)
            result.pages = len(pages)
        except TimeoutError:
            result.status = "timeout"
            result.error = f"pas de réponse complète en {editor.timeout_s:g} s"
        except (httpx.HTTPError, ValueError, ImportAborted, OSError) as exc:
            result.status = "error"
            result.error = str(exc) or type(exc).__name__
        except Exception as exc:  # the write failed: this editor only, the others go on
            log.exception("FHIR editor %s: import failed", editor.name)
            result.status = "error"
            result.error = f"import impossible : {exc}"
        result.seconds = time.monotonic() - started
        if result.status != "ok":
            log.warning("FHIR editor %s: %s (%s)", editor.name, result.status, result.error)
        if self.on_result is not None:
            try:
                await self.on_result(result)
            except Exception:
                log.exception("FHIR editor %s: result not announced", editor.name)
        return result

    def start_one(self, editor: FhirEditorSettings) -> asyncio.Task[PullResult]:
        """A pull of this editor, unless one is already under way (then that one)."""
        task = self.running.get(editor.name)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self.pull_one(editor))
            self.running[editor.name] = task
        return task

    async def refresh(self) -> list[PullResult]:
        tasks = [self.start_one(e) for e in self.editors]
        return list(await asyncio.gather(*tasks))


def withdraw_missing(
    s: Any, prefix: str, seen: set[str], start: datetime, end: datetime, rev: int
) -> int:
    """Cancel this editor's free slots in the window that its answer no longer has."""
    q = (
        update(Slot)
        .where(
            Slot.source == "fhir",
            Slot.source_ref.like(f"{prefix}%"),
            Slot.status == "open",
            Slot.booked == 0,
            Slot.start >= start,
            Slot.start <= end,
        )
        .values(status="cancelled", rev=rev)
    )
    if seen:
        q = q.where(Slot.source_ref.not_in(seen))
    return int(s.execute(q).rowcount or 0)
