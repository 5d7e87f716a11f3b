"""The import dialog: the file uploaded in chunks (progress shown), then imported."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.directory.protocol import CHUNK_BYTES, DirectoryImport, DirectoryUpload
from ui.bridge import HubBridge
from ui.controllers.actions import shortcut_action
from ui.tasks import spawn
from ui.widgets.import_dialog import ImportDialog


class ImportController(QObject):
    def __init__(
        self,
        window: QWidget,
        dialog: ImportDialog,
        hub: HubBridge,
        tell: Callable[..., None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.dialog = dialog
        self.hub = hub
        self.tell = tell
        dialog.import_requested.connect(
            lambda path, kind, rpps, strict: spawn(
                self.run(path, kind, rpps, strict), "directory-import"
            )
        )
        self.action = shortcut_action(self, window, "open_import", self.open)

    def open(self) -> None:
        self.dialog.show()
        self.dialog.raise_()

    async def run(self, path: str, kind: str, rpps: str, strict: bool) -> None:
        dialog = self.dialog
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            dialog.failed(f"fichier illisible ({exc})")
            return
        upload_id = secrets.token_hex(8)
        for seq, start in enumerate(range(0, max(len(data), 1), CHUNK_BYTES)):
            part = base64.b64encode(data[start : start + CHUNK_BYTES]).decode()
            reply = await self.hub.send(DirectoryUpload, upload_id=upload_id, seq=seq, data=part)
            if reply is None:
                dialog.failed("envoi interrompu")
                return
            dialog.uploading(min(start + CHUNK_BYTES, len(data)), len(data))
        dialog.importing()

        def imported(msg: dict[str, Any]) -> None:
            if msg.get("upload_id") == upload_id:
                dialog.hub_progress(int(msg.get("done", 0)), int(msg.get("total", 0)))

        self.hub.client.on_progress.append(imported)
        try:
            reply = await self._import(upload_id, path, kind, rpps, strict)
        finally:
            self.hub.client.on_progress.remove(imported)
        if reply is None:
            dialog.failed("import refusé par le hub")
            return
        dialog.show_report(reply["report"])
        self.tell(f"Import : {reply['report']['summary']}")

    async def _import(
        self, upload_id: str, path: str, kind: str, rpps: str, strict: bool
    ) -> dict[str, Any] | None:
        payload: dict[str, Any] = {
            "upload_id": upload_id,
            "kind": kind,
            "filename": Path(path).name,
            "strict": strict,
        }
        if rpps:
            payload["rpps"] = rpps
        return await self.hub.send(DirectoryImport, 300, **payload)
