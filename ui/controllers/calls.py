"""The call bar and the phone line: ring, answer (the dossier opens), hang up, transfer to
level 2, mute, the desk's ready/paused state, training calls; the caller's history on
ring (ui.caller_history)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from app.flow import protocol as p
from app.hub.payloads import as_reply
from app.stats.protocol import DeskState
from telephony.line import LineEvent, LineEventKind
from ui.bridge import HubBridge, LineBridge
from ui.caller_history import CallerHistory
from ui.controllers.actions import shortcut_action
from ui.controllers.dossier import DossierController
from ui.controllers.queues import QueuesController
from ui.main_window import DeskWindow
from ui.tasks import spawn

#: Level-2 groups of the room's proxy (telephony/kamailio/kamailio.cfg), by track.
TRANSFER_GROUPS = {"AMU": "n2-amu", "SNP": "n2-snp"}
REGISTRATION_TEXT = {
    LineEventKind.REGISTERED: "prête",
    LineEventKind.REGISTRATION_LOST: "perdue",
    LineEventKind.REGISTRATION_RETRYING: "nouvel essai…",
    LineEventKind.REGISTRATION_FAILED: "refusée",
}


class CallsController(QObject):
    def __init__(
        self,
        window: DeskWindow,
        hub: HubBridge,
        line: LineBridge | None,
        dossier: DossierController,
        lists: QueuesController,
        *,
        answering: bool,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.bar = window.call_bar
        self.training_panel = window.training_panel
        self.hub = hub
        self.line = line
        self.dossier = dossier
        self.lists = lists
        self.tell: Callable[..., None] = window.show_message
        self.focus_dossier = window.focus_dossier
        self.answering = answering  # this desk answers the 15 (the hub's permission table)
        self.ringing: dict[str, LineEvent] = {}  # call_id → the RINGING event
        #: Calls the hub acknowledged as ringing here (``call.offered``): the hub takes
        #: ``call.answered`` only from a desk the call rang.
        self.offered: set[str] = set()
        self.active_call: str | None = None
        self.call_dossier: dict[str, int] = {}  # call_id → dossier id
        self.training_call: str | None = None  # the training call being handled
        self.last_track: str | None = None  # track of the dossier N1 just sent on
        bar = self.bar
        bar.answer_requested.connect(self.answer)
        bar.hangup_requested.connect(self.hangup)
        bar.training_ring_requested.connect(self.ring_training)
        bar.agent_state_requested.connect(self.set_agent_state)
        bar.mute_requested.connect(self.set_mute)
        self._audio = line is not None and hasattr(line.line, "levels")
        bar.set_audio_controls(self._audio)
        self._meter = QTimer(self)
        self._meter.setInterval(200)
        self._meter.timeout.connect(self._show_levels)
        if line is not None:
            line.line_event.connect(self.on_line_event)
        dossier.qualified.connect(self.on_qualified)
        self.actions = [
            shortcut_action(self, window, name, run)
            for name, run in (
                ("answer", self.answer),
                ("hangup", self.hangup),
                ("transfer", self.transfer),
                ("toggle_mute", self.toggle_mute),
                ("agent_menu", bar.agent_button.showMenu),
                ("ring_training", self.ring_training),
                ("next_turn", self.training_panel.next_turn),
            )
        ]
        self.history = CallerHistory(window, hub, line, dossier, self)  # antériorités

    # -- the phone line -------------------------------------------------------------------

    def on_line_event(self, ev: LineEvent) -> None:
        bar = self.bar
        kind = ev.kind
        if kind in REGISTRATION_TEXT:
            label = self.line.line.label if self.line else "Ligne"
            bar.line_status.setText(f"{label} : {REGISTRATION_TEXT[kind]}")
        elif kind is LineEventKind.RINGING:
            self.ringing[ev.call_id] = ev
            bar.show_ringing(ev.line, ev.caller)
            if self.answering:
                spawn(self._call_offered(ev), "call-offered")
        elif kind is LineEventKind.ANSWERED:
            self.active_call = ev.call_id
            bar.show_talking()
            if self._audio:
                self._meter.start()
            if ev.call_id in self.ringing and self.answering:
                spawn(self._call_answered(ev.call_id), "call-answered")
            scenario_of = getattr(self.line.line, "scenario_of", None) if self.line else None
            scenario = scenario_of(ev.call_id) if scenario_of else None
            if scenario is not None:
                self.training_call = ev.call_id
                self.training_panel.start(scenario)
        elif kind is LineEventKind.DIALING:
            self.active_call = ev.call_id
            bar.show_dialing(ev.number)
        elif kind is LineEventKind.ENDED:
            was_ringing = self.ringing.pop(ev.call_id, None)
            self.offered.discard(ev.call_id)
            if self.active_call == ev.call_id:
                self.active_call = None
                bar.mute_button.setChecked(False)
            bar.show_idle("Appel manqué" if ev.reason == "caller_gave_up" else "Appel terminé")
            if was_ringing is not None and self.answering:
                ended = self.hub.send(p.CallEnded, call_ref=ev.call_id, reason=ev.reason)
                spawn(ended, "call-ended")

    async def _call_offered(self, ev: LineEvent) -> None:
        reply = await self.hub.send(
            p.CallOffered, call_ref=ev.call_id, line=ev.line, caller=ev.caller
        )
        if reply is not None:
            self.offered.add(ev.call_id)

    async def _call_answered(self, call_id: str) -> None:
        ring = self.ringing.get(call_id)
        if call_id not in self.offered and ring is not None:
            # The ring never reached the hub (the link was down as it rang, or is back
            # since): told again first, or the hub would not know it rang here.
            await self._call_offered(ring)
        reply = await self.hub.send(p.CallAnswered, call_ref=call_id)
        if reply is None:
            return
        dossier = as_reply(reply, p.DossierReply)["dossier"]
        self.call_dossier[call_id] = dossier["id"]
        self.lists.upsert(dossier)
        self.dossier.show(dossier)
        self.focus_dossier()
        self.tell(f"Dossier {dossier['number']} ouvert")

    def on_qualified(self, dossier: dict[str, Any], priority: str) -> None:
        """The N1 sent the dossier on: F4 transfers the call to that track's level 2."""
        self.last_track = dossier.get("track")
        if self.training_call and self.call_dossier.get(self.training_call) == dossier["id"]:
            self.training_panel.debrief(priority)

    # -- the keys and buttons -------------------------------------------------------------

    def answer(self) -> None:
        if self.line is None:
            return
        ringing = [cid for cid in self.ringing if cid != self.active_call]
        if ringing:
            self.line.line.answer(ringing[-1])

    def hangup(self) -> None:
        if self.line is None:
            return
        if self.active_call is not None:
            self.line.line.hangup(self.active_call)
        elif self.ringing:
            self.line.line.reject(next(iter(self.ringing)))

    def set_mute(self, muted: bool) -> None:
        line = self.line.line if self.line else None
        if line is not None and self.active_call and hasattr(line, "set_mute"):
            line.set_mute(self.active_call, muted)
            self.tell("Micro coupé" if muted else "Micro rétabli")

    def toggle_mute(self) -> None:
        if self._audio and self.active_call:
            self.bar.mute_button.toggle()

    def _show_levels(self) -> None:
        line = self.line.line if self.line else None
        if line is None or self.active_call is None:
            self._meter.stop()
            self.bar.show_levels(-90.0, -90.0)
            return
        rx, tx = line.levels(self.active_call)  # type: ignore[attr-defined]
        self.bar.show_levels(rx, tx)

    def transfer(self) -> None:
        """Blind transfer (REFER) of the call in hand to the level-2 group of its track."""
        if self.line is None or self.active_call is None:
            self.tell("Aucun appel en cours à transférer", error=True)
            return
        group = TRANSFER_GROUPS.get(self.last_track or "")
        if group is None:
            self.tell(
                "Qualifiez d'abord le dossier (P0, P1 ou P2) : il indique vers "
                "quel niveau 2 transférer",
                error=True,
            )
            return
        try:
            self.line.line.transfer(self.active_call, group)
        except (NotImplementedError, ValueError) as exc:
            self.tell(f"Transfert impossible : {exc}", error=True)
            return
        self.tell(f"Appel transféré au niveau 2 ({group})")

    def set_agent_state(self, state: str, reason: str) -> None:
        """Ready or paused: a paused desk does not ring (the fork goes to the others)."""
        line = self.line.line if self.line else None
        if line is not None:
            if state == "PAUSED" and hasattr(line, "pause"):
                line.pause(reason)
            elif state == "READY" and hasattr(line, "ready"):
                line.ready()
        self.bar.show_agent_state(state, reason)
        spawn(self.hub.send(DeskState, state=state), "desk-state")

    def ring_training(self) -> None:
        ring = getattr(self.line.line, "ring", None) if self.line else None
        if ring is not None:
            ring()
