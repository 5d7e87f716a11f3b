"""Ctrl+E: export the open dossier in the national formats — its RS-EDA message and,
when it has one, its appointment as a FHIR Appointment of the SAS guide — as JSON
files in the desk's export folder (the hub records the read in the audit)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QObject

from app.hub.payloads import as_reply
from app.interop.protocol import DossierExport, ExportReply
from ui.tasks import spawn

if TYPE_CHECKING:
    from ui.controllers.dossier import DossierController


def export_folder() -> Path:
    return Path(platformdirs.user_documents_dir()) / "sasdesk" / "exports"


class DossierExporter(QObject):
    def __init__(
        self,
        dossier: DossierController,
        tell: Callable[..., None],
        folder: Path | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.dossier = dossier  # the dossier in hand is the one exported
        self.tell = tell
        self.folder = folder or export_folder()
        self.written: list[Path] = []

    def export(self) -> None:
        if self.dossier.current_id is None:
            self.tell("Ouvrez d'abord un dossier", error=True)
            return
        spawn(self._export(self.dossier.current_id), "dossier-export")

    async def _export(self, dossier_id: int) -> None:
        written = []
        for fmt in ("rs-eda", "fhir-appointment"):
            reply = await self.dossier.hub.send(DossierExport, dossier_id=dossier_id, format=fmt)
            if reply is None:
                if fmt == "rs-eda":
                    return  # refused: the bridge showed why
                continue  # no appointment yet: the RS-EDA alone
            self.folder.mkdir(parents=True, exist_ok=True)
            export = as_reply(reply, ExportReply)
            path = self.folder / export["filename"]
            path.write_text(json.dumps(export["export"], ensure_ascii=False, indent=2) + "\n",
                            encoding="utf-8")  # fmt: skip
            written.append(path)
        self.written = written
        names = ", ".join(p.name for p in written)
        self.tell(f"Dossier exporté dans {self.folder} : {names}")
