"""The dossier lists: the queues this desk reads and "Mes dossiers". Enter or F5 takes a
dossier from a queue; Enter in "Mes dossiers" opens one. The lists follow the events
that carry a dossier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtWidgets import QTableView, QWidget

from app.domain.enums import Queue
from app.flow import protocol as p
from app.hub.events import DOSSIER_EVENTS
from app.hub.payloads import DossierView, Snapshot, as_reply
from ui.bridge import HubBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.controllers.dossier import DossierController
from ui.models.rows import RowTableModel
from ui.tasks import spawn


@dataclass(frozen=True)
class QueueList:
    """The queues tab: the table, its model, and the queues it shows."""

    table: QTableView
    model: RowTableModel
    queues: set[Queue]


class QueuesController(QObject):
    def __init__(
        self,
        window: QWidget,
        queue: QueueList | None,
        mine: tuple[QTableView, RowTableModel],
        hub: HubBridge,
        bus: EventBus,
        dossier: DossierController,
        tell: Callable[..., None],
        focus: Callable[[], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.queue_model = queue.model if queue is not None else None
        self.queues = queue.queues if queue is not None else set()
        self.mine_model = mine[1]
        self.hub = hub
        self.dossier = dossier
        self.tell = tell
        self.focus = focus  # where the keyboard goes once a dossier is taken
        if queue is not None:
            queue.table.activated.connect(self._take_row)
        mine[0].activated.connect(self._open_row)
        bus.on(DOSSIER_EVENTS, self.on_event)
        self.actions = [shortcut_action(self, window, "take_next", self.take_next)]

    def load(self, snap: Snapshot) -> None:
        rows = snap["dossiers"]
        if self.queue_model is not None:
            self.queue_model.reset_rows(rows)
        self.mine_model.reset_rows(rows)

    def on_event(self, msg: Message) -> None:
        dossier = msg.get("dossier")
        if dossier is not None:
            self.upsert(dossier)

    def upsert(self, dossier: DossierView) -> None:
        if self.queue_model is not None:
            self.queue_model.upsert(dossier)
        self.mine_model.upsert(dossier)

    def _open_row(self, index: QModelIndex) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if row is not None:
            self.dossier.open(row["id"], fetch=True)

    def take_next(self) -> None:
        if self.queue_model is None:
            return
        queue = sorted(self.queues)[0] if len(self.queues) == 1 else None
        if queue is None:  # several queues: the most urgent row shown first
            row = self.queue_model.row_at(0)
            if row is not None:
                spawn(self._take(row["id"]), "take")
            return
        spawn(self._take_next(queue), "take-next")

    async def _take_next(self, queue: Queue) -> None:
        reply = await self.hub.send(p.QueueNext, queue=str(queue))
        if reply is not None:
            self._taken(as_reply(reply, p.DossierReply)["dossier"])

    def _take_row(self, index: QModelIndex) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if row is not None:
            spawn(self._take(row["id"]), "take")

    async def _take(self, dossier_id: int) -> None:
        reply = await self.hub.send(p.DossierTake, dossier_id=dossier_id)
        if reply is not None:
            self._taken(as_reply(reply, p.DossierReply)["dossier"])

    def _taken(self, dossier: DossierView) -> None:
        self.upsert(dossier)
        self.dossier.show(dossier)
        self.tell(f"Dossier {dossier['number']} pris en charge")
        self.focus()
