"""The interoperability's intents as the desk sends them: the agenda editors' slots pulled
now, a dossier exported, the Hub Santé journal. No database and no hub code: a desk that
imports this loads neither."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.hub.protocol import EntityId, Intent, IntentName, Short


class DirectoryRefresh(Intent, name=IntentName.DIRECTORY_REFRESH):
    """Pull the agenda editors' free slots now (all, or those named)."""

    editors: list[Short] = []


class DossierExport(Intent, name=IntentName.DOSSIER_EXPORT):
    dossier_id: EntityId
    format: Literal["rs-eda", "fhir-appointment"] = "rs-eda"


class HubSanteJournal(Intent, name=IntentName.HUBSANTE_JOURNAL):
    """The messages exchanged with the Hub Santé (refused ones by default)."""

    status: Literal["refused", "invalid", "error", "all"] = "refused"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    DirectoryRefresh,
    DossierExport,
    HubSanteJournal,
)
