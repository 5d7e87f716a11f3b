"""The CPTS manager's agenda editor: its intents, and the bookings of other desks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.directory.protocol import (
    AgendaChange,
    AgendaChangeReply,
    AgendaReply,
    BookingChange,
    EffecteursReply,
)
from app.hub.events import SLOT_EVENTS, EventName
from app.hub.payloads import as_reply, event_data
from app.hub.protocol import IntentName
from ui.bridge import HubBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.tasks import spawn
from ui.widgets.agenda_editor import AgendaEditor

#: The ``agenda.changed`` actions that may change any agenda without saying its slots (a
#: directory imported, the editors' agendas refreshed); the ROR's carries structures.
RELOADED_AFTER = frozenset({"imported", "fhir_refreshed"})


class AgendaController(QObject):
    def __init__(
        self,
        window: QWidget,
        editor: AgendaEditor,
        hub: HubBridge,
        bus: EventBus,
        tell: Any,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.editor = editor
        self.hub = hub
        self.tell = tell  # the window's status line
        editor.intent_requested.connect(
            lambda kind, payload: spawn(self._send(kind, payload), kind)
        )
        # A booking or an agenda change by any desk (this one included) changes what the
        # editor shows: its event carries the slots, applied; a whole directory imported
        # or refreshed carries none: the agenda on screen is read again, bursts merged.
        self._reload = QTimer(self)
        self._reload.setSingleShot(True)
        self._reload.setInterval(200)
        self._reload.timeout.connect(self._reload_now)
        bus.on(SLOT_EVENTS, self.on_slot_event)
        self.action = shortcut_action(self, window, "open_agendas", self.open)

    def open(self) -> None:
        """F11: the editor in front, its list of effecteurs filled the first time."""
        self.editor.show()
        self.editor.raise_()
        if self.editor.people.count() == 0:
            self.editor.search()

    def on_slot_event(self, msg: Message) -> None:
        """Apply what the event carries to the agenda on screen; only a whole directory
        imported or the editors' agendas refreshed (no slots in the event) reload it."""
        editor = self.editor
        if msg["event"] in (EventName.SLOT_BOOKED, EventName.SLOT_RELEASED):
            slot = event_data(msg, BookingChange)["slot"]
            if slot is not None:  # None: booked beyond the published slots
                editor.apply_slots([slot])
            return
        change = event_data(msg, AgendaChange)
        if "slots" not in change:  # a directory imported or refreshed: no slots said
            if editor.effecteur_id is not None and change["action"] in RELOADED_AFTER:
                self._reload.start()
            return
        if not editor.shows(change.get("effecteur_id")):
            return
        self.apply_change(change)

    def apply_change(self, change: AgendaChangeReply | AgendaChange) -> None:
        self.editor.apply_slots(change.get("slots") or [])
        if "unavailability" in change or "unavailability_id" in change:
            self.editor.apply_unavailability(
                change.get("unavailability"), change.get("unavailability_id")
            )

    def _reload_now(self) -> None:
        if self.hub.ready:  # a desk closing in the meantime asks nothing more
            self.editor.reload()

    async def _send(self, kind: str, payload: dict[str, Any]) -> None:
        reply = await self.hub.send(kind, **payload)
        if reply is None:
            return
        if kind == IntentName.AGENDA_EFFECTEURS:
            self.editor.show_effecteurs(as_reply(reply, EffecteursReply)["effecteurs"])
        elif kind == IntentName.AGENDA_VIEW:
            self.editor.show_agenda(as_reply(reply, AgendaReply))
        else:  # the change as it now stands: shown without reading the agenda again
            change = as_reply(reply, AgendaChangeReply)
            count = len(change["slots"])
            self.tell(f"Agenda mis à jour ({count} créneau(x))" if count else "Agenda mis à jour")
            self.apply_change(change)
