"""The CPTS manager's agenda editor: its intents, and the bookings of other desks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.hub.events import SLOT_EVENTS
from app.hub.protocol import IntentName
from ui.bridge import HubBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.tasks import spawn
from ui.widgets.agenda_editor import AgendaEditor


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
        # editor shows: reload the agenda on screen, bursts merged.
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
        shown = self.editor.effecteur_id
        if shown is not None and touches(msg, shown):
            self._reload.start()

    def _reload_now(self) -> None:
        if self.hub.ready:  # a desk closing in the meantime asks nothing more
            self.editor.reload()

    async def _send(self, kind: str, payload: dict[str, Any]) -> None:
        reply = await self.hub.send(kind, **payload)
        if reply is None:
            return
        if kind == IntentName.AGENDA_EFFECTEURS:
            self.editor.show_effecteurs(reply["effecteurs"])
        elif kind == IntentName.AGENDA_VIEW:
            self.editor.show_agenda(reply)
        else:
            count = len(reply.get("slots") or [])
            self.tell(f"Agenda mis à jour ({count} créneau(x))" if count else "Agenda mis à jour")
            self.editor.reload()


def touches(msg: Message, effecteur_id: int) -> bool:
    """Whether an event changes this effecteur's agenda (an import or a refresh from the
    agenda editors may change any)."""
    data = msg.get("data") or {}
    if data.get("action") in ("imported", "fhir_refreshed"):
        return True
    found = {
        (data.get("booking") or {}).get("effecteur_id"),
        (data.get("slot") or {}).get("effecteur_id"),
        data.get("effecteur_id"),
    }
    found |= {s.get("effecteur_id") for s in data.get("slots") or []}
    return effecteur_id in found
