"""The appointment board's controller: loaded once, then kept by the events' payloads
(received, updated, attached), never asked again; Ctrl+Maj+R attaches the selected
appointment to the open dossier."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from app.appointments.protocol import (
    AppointmentAttach,
    AppointmentAttached,
    AppointmentBoard,
    AppointmentChange,
    AppointmentRefused,
    AttachReply,
    BoardReply,
    JournalReply,
)
from app.hub.events import EventName
from app.hub.payloads import as_reply, event_data
from app.hub.protocol import IntentName
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.tasks import spawn
from ui.widgets.appointment_board import AppointmentBoard as BoardView
from ui.widgets.appointment_board import reasons

if TYPE_CHECKING:
    from ui.controllers.dossier import DossierController
    from ui.main_window import DeskWindow


class BoardController(QObject):
    def __init__(
        self,
        w: DeskWindow,
        view: BoardView,
        dossier: DossierController,
        bus: EventBus,
        tell: Callable[..., None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.view = view
        self.dossier = dossier
        self.tell = tell
        bus.on(
            (EventName.APPOINTMENT_RECEIVED, EventName.APPOINTMENT_UPDATED,
             EventName.APPOINTMENT_ATTACHED),
            self.on_event,
        )  # fmt: skip
        if view.refused is not None:  # the supervisor's: what the hub refused
            bus.on(EventName.APPOINTMENT_REFUSED, self.on_refused)
        shortcut_action(self, w, "attach_appointment", self.attach)
        view.attach_button.clicked.connect(lambda _checked=False: self.attach())

    def load(self) -> None:
        spawn(self._load(), "appointment-board")

    async def _load(self) -> None:
        reply = await self.dossier.hub.send(AppointmentBoard)
        if reply is not None:
            board = as_reply(reply, BoardReply)["appointments"]
            self.view.model.reset_rows(board)
        if self.view.refused is not None:
            journal = await self.dossier.hub.send(IntentName.APPOINTMENT_JOURNAL, limit=200)
            if journal is not None:
                messages = as_reply(journal, JournalReply)["messages"]
                self.view.refused.reset_rows(messages)

    def on_refused(self, msg: Message) -> None:
        """A refused message, as the journal would list it (the event has no journal id:
        its sequence number stands in until the next load)."""
        assert self.view.refused is not None
        data = event_data(msg, AppointmentRefused)
        row = {
            "id": f"event-{msg['seq']}",
            "at": msg["at"],
            "sender": data["sender"],
            "identifier": data["identifier"],
            "answer": data["answer"],
            "issues": data["issues"],
        }
        self.view.refused.upsert(row)
        self.tell(
            f"Message d'agenda refusé ({row['answer']}, {row['sender']}) : "
            + (reasons(row) or "voir « Rendez-vous reçus »"),
            error=True,
        )

    def on_event(self, msg: Message) -> None:
        """received / updated: the appointment, its board columns kept from the row
        shown; attached: the board's row itself."""
        change = event_data(msg, AppointmentChange)  # its ``appointment`` in both
        row: dict[str, Any] = dict(change["appointment"])
        known = self.view.model.position(row["id"])
        before = self.view.model.rows[known] if known is not None else {}
        row.setdefault("dossier_id", before.get("dossier_id"))
        row.setdefault("structure", before.get("structure", ""))
        self.view.model.upsert(row)
        if (
            msg["event"] == EventName.APPOINTMENT_ATTACHED
            and (event_data(msg, AppointmentAttached)["automatic"])
        ):
            dossier = msg.get("dossier")
            self.tell(
                f"Rendez-vous du {row['start'][:16].replace('T', ' ')} rattaché "
                f"automatiquement au dossier "
                f"{dossier['number'] if dossier else row['dossier_id']} "
                "(le seul dossier du régulateur en attente de RDV)"
            )

    def attach(self) -> None:
        row = self.view.selected()
        if row is None:
            self.tell("Choisissez d'abord un rendez-vous dans le tableau", error=True)
            return
        if self.dossier.current_id is None:
            self.tell("Ouvrez d'abord le dossier du patient", error=True)
            return
        spawn(self._attach(int(row["id"]), self.dossier.current_id), "appointment-attach")

    async def _attach(self, appointment_id: int, dossier_id: int) -> None:
        reply = await self.dossier.hub.send(
            AppointmentAttach, appointment_id=appointment_id, dossier_id=dossier_id
        )
        if reply is None:
            return  # refused: the bridge showed why
        self.view.model.upsert(as_reply(reply, AttachReply)["appointment"])
        self.tell("Rendez-vous rattaché au dossier ouvert")
