"""``dossier.export`` on the hub (the desk's Ctrl+E): the dossier's RS-EDA message or
its appointment as a FHIR Appointment, for whoever may see the dossier; an audited
read (granted or refused)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db.models import Dossier, OsnpTask
from app.domain.rules import FlowError
from app.hub.protocol import Intent, IntentName
from app.hub.read_audit import record_read, refused_read
from app.hub.service import FlowService, Unit
from app.hub.visibility import can_see_dossier
from app.interop.protocol import DossierExport

_CLIENT_ID: dict[FlowService, str] = {}


class ExportHandlers:
    def __init__(self, service: FlowService):
        self.service = service

    def export(self, u: Unit, i: DossierExport) -> dict[str, Any]:
        assert u.actor is not None
        d = u.s.get(Dossier, i.dossier_id)
        task = u.s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == i.dossier_id))
        if d is None or not can_see_dossier(u.actor, d, task):
            raise refused_read(
                FlowError("not_found", f"dossier {i.dossier_id} introuvable ou non accessible"),
                i.dossier_id, str(IntentName.DOSSIER_EXPORT),
            )  # fmt: skip
        # The RS-EDA models and schemas load with the first export, not with every hub.
        from app.interop.export import DEFAULT_CLIENT_ID, ExportError, export

        client_id = _CLIENT_ID.get(self.service, DEFAULT_CLIENT_ID)
        try:
            document = export(u.s, d, i.format, client_id=client_id,
                              operator=u.actor.username, now=u.now)  # fmt: skip
        except ExportError as exc:
            raise FlowError("invalid_state", str(exc)) from None
        record_read(u.s, u.actor, u.actor.desk, d.id, str(IntentName.DOSSIER_EXPORT),
                    detail=i.format, at=u.now)  # fmt: skip
        suffix = "rs-eda.json" if i.format == "rs-eda" else "rdv.fhir.json"
        return {"export": document, "format": i.format,
                "filename": f"dossier-{d.number}-{suffix}"}  # fmt: skip


#: The intents this extension serves (of app.interop.protocol).
INTENTS: tuple[type[Intent], ...] = (DossierExport,)


def install(service: FlowService) -> None:
    service.register(DossierExport, ExportHandlers(service).export)


async def start(hub: Any) -> None:
    if hub.settings.hubsante is not None:
        _CLIENT_ID[hub.service] = hub.settings.hubsante.client_id
