"""``dossier.export`` on the hub (the desk's Ctrl+E): the dossier's RS-EDA message or
its appointment as a FHIR Appointment, for whoever may see the dossier; an audited
read (granted or refused)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.db.models import Dossier, OsnpTask
from app.domain.rules import FlowError
from app.hub.extensions import Extension, Handler
from app.hub.protocol import Intent, IntentName
from app.hub.read_audit import record_read, refused_read
from app.hub.service import HubService, Unit
from app.hub.visibility import can_see_dossier
from app.interop.protocol import DossierExport


class ExportHandlers:
    def __init__(self, client_id: str | None):
        #: How the exported RS-EDA message names its sender: the room's Hub Santé id, or
        #: none configured, the product's default.
        self.client_id = client_id

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

        client_id = self.client_id or DEFAULT_CLIENT_ID
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


class ExportExtension(Extension):
    """A dossier exported from the desk (Ctrl+E)."""

    name = "app.interop.export"
    protocol: tuple[type[Intent], ...] = (DossierExport,)

    def __init__(self, service: HubService):
        hubsante = service.settings.hubsante
        self.exports = ExportHandlers(hubsante.client_id if hubsante is not None else None)

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {DossierExport: self.exports.export}
