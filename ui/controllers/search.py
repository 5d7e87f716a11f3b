"""The slot search dock: search, book, call the doctor, refresh the agenda editors; the
results follow the bookings and agenda changes of every desk. A doctor called from the
results is announced (``placed``) so that the call's recording reaches the hub linked
to the dossier in hand (app.client.recordings, wired in ui/desk.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from app.directory.protocol import (
    AgendaBookingData,
    AgendaLateData,
    BookingChange,
    BookingReply,
    DirectorySearch,
    SearchReply,
    SlotBook,
)
from app.hub.events import SLOT_EVENTS, EventName
from app.hub.payloads import as_reply, event_data
from app.interop.protocol import DirectoryRefresh, RefreshReply
from ui.bridge import HubBridge, LineBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.tasks import spawn
from ui.widgets.search_panel import SearchPanel

Tell = Callable[..., None]
AGENDA_EVENTS = frozenset({EventName.DOSSIER_AGENDA_BOOKING, EventName.DOSSIER_AGENDA_LATE})


class SearchController(QObject):
    #: A call dialled from the results: its call ref, and the dossier, number and doctor.
    placed = Signal(str, dict)

    def __init__(
        self,
        window: QWidget,
        panel: SearchPanel,
        hub: HubBridge,
        line: LineBridge | None,
        bus: EventBus,
        tell: Tell,
        current: Callable[[], int | None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.panel = panel
        self.hub = hub
        self.line = line
        self.tell = tell
        self.current = current  # the dossier in hand: its commune, age, motif are used
        #: Opens an editor's booking page in the system browser (Qt's URL handlers).
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self._criteria: dict[str, Any] = {}
        panel.search_requested.connect(self.search)
        panel.book_requested.connect(self.book)
        panel.call_requested.connect(self.dial)
        panel.refresh_requested.connect(self.refresh_agendas)
        self._research = QTimer(self)
        self._research.setSingleShot(True)
        self._research.setInterval(300)  # bursts of bookings: one refresh
        self._research.timeout.connect(self._refresh_search)
        bus.on(SLOT_EVENTS, self.on_slot_event)
        bus.on(AGENDA_EVENTS, self.on_agenda_event)
        self.actions = [
            shortcut_action(self, window, "search_slots", self.search_now),
            shortcut_action(self, window, "call_doctor", panel.call_selected),
            shortcut_action(self, window, "refresh_agendas", self.refresh_agendas),
        ]

    def search_now(self) -> None:
        """Ctrl+F: the slots for the dossier in hand, the keyboard in the results."""
        self.panel.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.panel.request_search()

    def on_slot_event(self, msg: Message) -> None:
        """A booking (this desk's or another's) or a freed place: the event's slot is
        applied to the list shown; only what it cannot say is searched again, merged in
        bursts."""
        if self.panel.last is None:
            return
        if msg["event"] == EventName.AGENDA_CHANGED:
            self._research.start()
            return
        change = event_data(msg, BookingChange)  # slot.booked, slot.released
        slot = change["slot"]
        if slot is None:
            self._research.start()
            return
        snp = change["weekly_snp"]
        weekly = (change["booking"]["effecteur_id"], snp) if snp is not None else None
        freed = msg["event"] == EventName.SLOT_RELEASED
        if not self.panel.apply_slot(slot, weekly, freed=freed):
            self._research.start()

    def on_agenda_event(self, msg: Message) -> None:
        """A booking made at an editor: confirmed, cancelled, or still pending too long."""
        late = msg["event"] == EventName.DOSSIER_AGENDA_LATE
        if late:
            self.tell(event_data(msg, AgendaLateData)["message"], error=True)
            return
        data = event_data(msg, AgendaBookingData)
        status = data["agenda_status"]
        if status in ("booked", "cancelled"):
            self.tell(data["message"], error=status == "cancelled")

    def refresh_agendas(self) -> None:
        spawn(self._refresh_agendas(), "directory-refresh")

    async def _refresh_agendas(self) -> None:
        reply = await self.hub.send(DirectoryRefresh)
        if reply is not None:  # each editor's result comes back as an event
            names = ", ".join(as_reply(reply, RefreshReply)["refresh"]["editors"])
            self.tell(f"Agendas en cours d'actualisation : {names}")

    def search(self, criteria: dict[str, Any]) -> None:
        self._criteria = criteria
        spawn(self._search(criteria), "directory-search")

    def _refresh_search(self) -> None:
        if self.hub.ready:  # a desk closing in the meantime asks nothing more
            self.search(self._criteria)

    async def _search(self, criteria: dict[str, Any]) -> None:
        payload = dict(criteria)
        if self.current() is not None:
            payload["dossier_id"] = self.current()
        reply = await self.hub.send(DirectorySearch, **payload)
        if reply is not None:
            self.panel.show_results(as_reply(reply, SearchReply)["search"])

    def book(self, slot_id: int) -> None:
        spawn(self._book(slot_id), "slot-book")

    async def _book(self, slot_id: int) -> None:
        payload: dict[str, Any] = {"slot_id": slot_id}
        if self.current() is not None:
            payload["dossier_id"] = self.current()
        answer = await self.hub.send(SlotBook, **payload)
        if answer is None:
            self._refresh_search()  # the place went to another desk: show what is left
            return
        reply = as_reply(answer, BookingReply)
        booking = reply["booking"]
        when = datetime.fromisoformat(booking["appointment_at"]).astimezone()
        if booking["agenda_status"] == "pending":
            # The editor's slot: booked on its page in the browser (origin=sas, no patient
            # data), « Réservé » only when the editor's appointment comes back.
            self.open_url(QUrl(booking["booking_page"] or ""))
            self.tell(
                f"En attente de l'agenda : {booking['effecteur']} le {when:%d/%m à %H:%M} — "
                "réservez sur la page de l'éditeur ouverte dans le navigateur"
            )
            return
        text = f"Réservé : {booking['effecteur']} le {when:%d/%m à %H:%M}"
        if booking["requires_call"]:
            text += " — appelez le médecin pour confirmer (agenda non interfacé)"
        warnings = reply["warnings"]
        self.tell(" · ".join([text, *warnings]), error=bool(warnings))
        # The reply carries the slot as it now stands: the list follows it, and searches
        # again (once, merged with the event's) only if the slot alone cannot say.
        slot = reply["slot"]
        snp = reply["weekly_snp"]
        weekly = (booking["effecteur_id"], snp) if snp is not None else None
        if slot is None or not self.panel.apply_slot(slot, weekly):
            self._research.start()

    def dial(self, number: str, who: str) -> None:
        if self.line is None:
            self.tell(f"Pas de ligne pour appeler {who} ({number})", error=True)
            return
        dossier_id = self.current()  # read now: the call is about the dossier in hand
        call_ref = self.line.line.dial(number)
        self.placed.emit(call_ref, {"dossier_id": dossier_id, "number": number, "callee": who})
        self.tell(f"Appel de {who} au {number}")
