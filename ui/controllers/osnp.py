"""The OSNP's work: the appointment searches (task panel: take, close) and the call-back
dock (plan, dialling the doctors, attempts, reminders)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QApplication, QWidget

from app.callback.dialling import DialledCall
from app.callback.protocol import ReminderData
from app.domain.enums import Role, TaskStatus
from app.flow import protocol as p
from app.hub.events import CALLBACK_EVENTS, TASK_EVENTS, EventName
from app.hub.payloads import Snapshot, event_data
from telephony.line import LineEvent, LineEventKind
from ui.bridge import HubBridge, LineBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.controllers.dossier import DossierController
from ui.models.rows import RowTableModel
from ui.tasks import spawn
from ui.widgets.callback_panel import CallbackPanel
from ui.widgets.task_panel import TaskPanel

Tell = Callable[..., None]
#: The line events of a call the desk placed (a call-back to a doctor).
DIALLED = (
    LineEventKind.DIALING,
    LineEventKind.ANSWERED,
    LineEventKind.ENDED,
    LineEventKind.RECORDING,
)


class CallbackController(QObject):
    #: A call dialled to a target: its ref, and the task's dossier, number and doctor (its
    #: recording goes to the attempt that notes it, else to the dossier: ui/desk.py).
    placed = Signal(str, dict)

    def __init__(
        self,
        panel: CallbackPanel,
        hub: HubBridge,
        line: LineBridge | None,
        bus: EventBus,
        tell: Tell,
        *,
        user_id: int,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.panel = panel
        self.hub = hub
        self.line = line
        self.tell = tell
        self.user_id = user_id
        self.dialled: DialledCall | None = None  # the OSNP's call to a doctor
        self.dossier_id: int | None = None  # the dossier of the task in hand
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        panel.intent_requested.connect(self.send)
        panel.dial_requested.connect(self.dial)
        bus.on(CALLBACK_EVENTS, panel.on_event)
        bus.on(EventName.CALLBACK_REMINDER, self.on_reminder)
        if line is not None:
            line.line_event.connect(self.on_line_event)

    def send(self, type_: str, payload: dict[str, Any]) -> None:
        spawn(self._send(type_, payload), type_)

    async def _send(self, type_: str, payload: dict[str, Any]) -> None:
        reply = await self.hub.send(type_, **payload)
        if reply is None:
            return
        self.panel.apply_reply(type_, reply)
        booking = reply.get("booking") or {}
        if booking.get("agenda_status") == "pending" and booking.get("booking_page"):
            # An accepted call on an editor's slot: booked on the editor's page (origin=sas,
            # no patient data), pending until the editor's appointment comes back.
            self.open_url(QUrl(booking["booking_page"]))
            self.tell(
                f"En attente de l'agenda : {booking['effecteur']} — réservez sur la page de "
                "l'éditeur ouverte dans le navigateur"
            )

    def open_task(self, task: dict[str, Any]) -> None:
        """The task in hand (this OSNP's, in progress): its call-back plan."""
        mine = (task.get("owner") or {}).get("id") == self.user_id
        if mine and task["status"] == TaskStatus.IN_PROGRESS and self.panel.task_id != task["id"]:
            self.dossier_id = task.get("dossier_id")
            self.panel.open_task(task)

    def dial(self, target_id: int, number: str) -> None:
        if self.line is None:
            self.tell(f"Pas de ligne pour appeler le {number}", error=True)
            return
        self.dialled = DialledCall(target_id, number)
        target = self.panel.current_target() or {}
        call_ref = self.line.line.dial(number)
        callee = str(target.get("name") or "") if target.get("id") == target_id else ""
        self.placed.emit(call_ref, {"dossier_id": self.dossier_id, "number": number,
                                    "callee": callee, "attempt_first": True})  # fmt: skip
        self.tell(f"Appel du {number}…")

    def on_line_event(self, ev: LineEvent) -> None:
        call = self.dialled
        if call is None or ev.kind not in DIALLED or not call.feed(ev):
            return
        if call.ended:
            # Attached at the hang-up, again when the recording is complete.
            self.panel.attach_call(call.target_id, call.attempt_fields())
            if ev.kind is LineEventKind.ENDED and call.suggested_result() is not None:
                self.tell("Pas de réponse : notez le résultat (rappel planifié)")

    def on_reminder(self, msg: Message) -> None:
        """A call-back asked for now: ring the desk and show the target."""
        task = msg.get("task")
        data = event_data(msg, ReminderData)
        QApplication.beep()
        self.tell(
            f"Rappel prévu maintenant : {data['target'] or 'médecin'} "
            f"({task['patient'] if task else ''})",
            error=True,
        )
        if task is not None and self.panel.task_id != task["id"]:
            self.dossier_id = task["dossier_id"]
            self.panel.open_task(task)
        if data["target_id"]:
            self.panel.select_target(data["target_id"])


class TaskController(QObject):
    def __init__(
        self,
        window: QWidget,
        panel: TaskPanel,
        model: RowTableModel,
        hub: HubBridge,
        bus: EventBus,
        dossier: DossierController,
        callback: CallbackController | None,
        tell: Tell,
        *,
        role: Role,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.panel = panel
        self.model = model
        self.hub = hub
        self.dossier = dossier
        self.callback = callback
        self.tell = tell
        panel.take_requested.connect(self.take)
        panel.close_requested.connect(self.close)
        panel.selected.connect(self.on_selected)
        bus.on(TASK_EVENTS, self.on_event)
        self.actions: list[QAction] = []
        if role is Role.OSNP:  # Ctrl+Entrée closes the search in hand
            self.actions.append(shortcut_action(self, window, "validate", panel.request_close))

    def load(self, snap: Snapshot) -> None:
        self.model.reset_rows(snap["tasks"])

    def on_event(self, msg: Message) -> None:
        task = msg.get("task")
        if task is not None:
            self.model.upsert(task)
            self.panel.refresh()

    def on_selected(self, task: dict[str, Any]) -> None:
        self.dossier.open(task["dossier_id"], fetch=True)
        if self.callback is not None:
            self.callback.open_task(task)

    def take(self, task_id: int) -> None:
        spawn(self._take(task_id), "take-task")

    async def _take(self, task_id: int) -> None:
        reply = await self.hub.send(p.TaskTake, task_id=task_id)
        if reply is None:
            return
        task = reply["task"]
        self.dossier.remember_task(task)
        self.model.upsert(task)
        row = self.model.position(task_id)
        if row is not None:
            self.panel.table.selectRow(row)
        self.panel.refresh()
        self.on_selected(task)
        wanted = task.get("wanted_label") or "Médecin généraliste"
        if wanted == "Médecin généraliste":
            self.tell("Recherche de RDV prise : appelez d'abord le médecin traitant")
        else:  # the call-back plan does not start with the GP (docs/callback.md)
            self.tell(f"Recherche de RDV prise : professionnel demandé — {wanted}")

    def close(self, task_id: int, payload: dict[str, Any]) -> None:
        spawn(self._close(task_id, payload), "close-task")

    async def _close(self, task_id: int, payload: dict[str, Any]) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(p.TaskClose, task_id=task_id, **payload)
        if reply is not None:
            self.tell(f"Recherche terminée, dossier {reply['dossier']['number']} clôturé")
            self.panel.after_close()
            self.dossier.clear()
