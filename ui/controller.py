"""The desk's controller: turns clicks, keys and line events into intents to the hub,
and hub events into model updates. It decides nothing the hub should decide."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

import app.callback.hub  # noqa: F401 (its intents, sent by the call-back panel)
from app.callback.dialling import DialledCall
from app.client.hub_client import LinkState
from app.domain.enums import DossierStatus, Queue, Role, TaskStatus
from app.domain.permissions import Action
from app.hub import protocol as p
from app.hub.events import EventName
from app.stats.hub import DeskState
from telephony.line import LineEvent, LineEventKind
from ui.bridge import HubBridge, LineBridge
from ui.caller_history import CallerHistory
from ui.controllers.agenda import AgendaController
from ui.controllers.bus import EventBus
from ui.controllers.imports import ImportController
from ui.controllers.room import StatisticsController, SupervisionController
from ui.controllers.search import SearchController
from ui.dossier_export import DossierExporter
from ui.main_window import DeskWindow
from ui.recording_playback import RecordingPlayback
from ui.tasks import spawn

log = logging.getLogger(__name__)
SLOT_EVENTS = {EventName.SLOT_BOOKED, EventName.SLOT_RELEASED, EventName.AGENDA_CHANGED}
#: Level-2 groups of the room's proxy (telephony/kamailio/kamailio.cfg), by track.
TRANSFER_GROUPS = {"AMU": "n2-amu", "SNP": "n2-snp"}
LINK_TEXT = {
    LinkState.READY: "Hub : connecté",
    LinkState.CONNECTED: "Hub : connecté (session à rouvrir)",
    LinkState.CONNECTING: "Hub : connexion…",
    LinkState.DISCONNECTED: "Hub : connexion perdue — reconnexion automatique, la saisie est "
    "conservée",
}


def locked_text(data: dict[str, Any]) -> str:
    """The supervisor's alert when repeated wrong passwords lock an account or a desk."""
    until = data.get("until")
    when = datetime.fromisoformat(until).astimezone().strftime("%H:%M") if until else "?"
    who = (
        f"le compte « {data.get('username', '?')} »"
        if data.get("kind") == "account"
        else f"le poste {data.get('address', '?')}"
    )
    return (
        f"Connexion bloquée jusqu'à {when} : {data.get('failures', '?')} mots de passe "
        f"erronés pour {who}"
    )


class DeskController(QObject):
    def __init__(self, window: DeskWindow, hub: HubBridge, line: LineBridge | None):
        super().__init__(window)
        self.w = window
        self.hub = hub
        self.line = line
        self.user_id = window.user_id
        self.role = window.role
        self.answering = window.granted.can(Action.ANSWER_CALLS)  # the hub's table
        self.dossiers: dict[int, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.current_id: int | None = None
        self.ringing: dict[str, LineEvent] = {}  # call_id → the RINGING event
        self.active_call: str | None = None
        self.call_dossier: dict[str, int] = {}  # call_id → dossier id
        self.training_call: str | None = None  # the training call being handled
        self.dialled: DialledCall | None = None  # the OSNP's call to a doctor
        self.last_track: str | None = None  # track of the dossier N1 just sent on
        self._wire()

    # -- wiring -----------------------------------------------------------------------

    def _wire(self) -> None:
        w = self.w
        # Hub events reach the panels that subscribed to them by name (ui.controllers.bus).
        self.bus = EventBus()
        self.hub.hub_event.connect(self.bus.publish)
        self.bus.on_every(self.on_event)  # the dossier and task models follow every event
        self.bus.on(
            EventName.LOGIN_LOCKED,
            lambda msg: self.w.show_message(locked_text(msg.get("data") or {}), error=True),
        )
        self.hub.snapshot.connect(self.on_snapshot)
        self.hub.link.connect(self.on_link)
        self.hub.error.connect(lambda text: w.show_message(f"Refusé : {text}", error=True))
        if self.line is not None:
            self.line.line_event.connect(self.on_line_event)
        w.call_bar.answer_requested.connect(self.answer)
        w.call_bar.hangup_requested.connect(self.hangup)
        w.call_bar.training_ring_requested.connect(self.ring_training)
        w.call_bar.agent_state_requested.connect(self.set_agent_state)
        w.call_bar.mute_requested.connect(self.set_mute)
        line_obj = self.line.line if self.line else None
        self._audio = line_obj is not None and hasattr(line_obj, "levels")
        w.call_bar.set_audio_controls(self._audio)
        self._meter = QTimer(self)
        self._meter.setInterval(200)
        self._meter.timeout.connect(self._show_levels)
        w.dossier_form.fields_edited.connect(self.save_fields)
        w.dossier_form.qualify_requested.connect(self.qualify)
        w.dossier_form.close_requested.connect(self.close_dossier)
        w.decision_form.decide_requested.connect(self.decide)
        w.decision_form.close_requested.connect(self.close_dossier)
        w.decision_form.move_track_requested.connect(self.move_track_of)
        w.decision_form.release_requested.connect(
            lambda did: self._send_and_clear(p.DossierRelease, did, "Dossier remis en file")
        )
        w.decision_form.forward_requested.connect(self.forward)
        if w.queue_table is not None:
            w.queue_table.activated.connect(self._take_row)
        w.mine_table.activated.connect(self._open_row)
        if w.task_panel is not None:
            w.task_panel.take_requested.connect(self.take_task)
            w.task_panel.close_requested.connect(self.close_task)
            w.task_panel.selected.connect(self._task_selected)
        tell = w.show_message
        self.panels: list[QObject] = []
        if w.agenda_editor is not None:
            self.panels.append(AgendaController(w.agenda_editor, self.hub, self.bus, tell, self))
        if w.import_dialog is not None:
            self.panels.append(ImportController(w.import_dialog, self.hub, tell, self))
        if w.statistics is not None:
            self.panels.append(StatisticsController(w.statistics, self.hub, self))
        self.supervision: SupervisionController | None = None
        if w.supervision is not None:
            self.supervision = SupervisionController(w.supervision, self.hub, self.bus, self)
        if w.search_panel is not None:
            self.panels.append(
                SearchController(
                    w.search_panel,
                    self.hub,
                    self.line,
                    self.bus,
                    tell,
                    lambda: self.current_id,
                    self,
                )
            )
        if w.callback_panel is not None:
            w.callback_panel.intent_requested.connect(self.callback_intent)
            w.callback_panel.dial_requested.connect(self.dial_target)
            callback_events = [n for n in EventName if n.family == "callback"]
            self.bus.on(callback_events, w.callback_panel.on_event)
            self.bus.on(EventName.CALLBACK_REMINDER, self._reminder)
        # The window's shortcuts (QActions) run these; nothing is copied onto the window.
        for name in (
            "answer",
            "hangup",
            "ring_training",
            "take_next",
            "close_current",
            "move_track",
            "validate",
            "agent_menu",
            "transfer",
            "toggle_mute",
        ):
            w.bind(name, getattr(self, name))
        # Recordings go up to the hub by themselves (app.recordings.desk, see ui/desk.py).
        self.playback = RecordingPlayback(self)
        w.bind("play_recording", self.playback.toggle)
        self.exporter = DossierExporter(self)
        w.bind("export_dossier", self.exporter.export)
        self.history = CallerHistory(self)  # antériorités on ring, dossier search

    def _task_selected(self, task: dict[str, Any]) -> None:
        self.open_dossier(task["dossier_id"], fetch=True)
        self.open_callback(task)

    # -- hub → desk -------------------------------------------------------------------

    def on_link(self, state: str, detail: str) -> None:
        self.w.link_label.setText(LINK_TEXT.get(LinkState(state), state))

    def on_snapshot(self, snap: dict[str, Any]) -> None:
        self.dossiers = {d["id"]: d for d in snap["dossiers"]}
        self.tasks = {t["id"]: t for t in snap["tasks"]}
        rows = list(self.dossiers.values())
        if self.w.queue_model is not None:
            self.w.queue_model.reset_rows(rows)
        self.w.mine_model.reset_rows(rows)
        if self.w.tasks_model is not None:
            self.w.tasks_model.reset_rows(list(self.tasks.values()))
        if self.supervision is not None:
            self.supervision.on_snapshot(snap)
        if self.current_id is None:
            # A desk restarted mid-dossier shows that dossier again.
            mine = [
                d
                for d in rows
                if (d.get("owner") or {}).get("id") == self.user_id
                and d["status"] != DossierStatus.CLOSED
            ]
            if mine:
                latest = max(mine, key=lambda d: d["updated_at"] or "")
                self.open_dossier(latest["id"], fetch=True)
                self.w.show_message(f"Dossier {latest['number']} repris là où il en était")
        elif self.current_id in self.dossiers:
            self._show_current()

    def on_event(self, msg: dict[str, Any]) -> None:
        dossier = msg.get("dossier")
        if dossier is not None:
            self.dossiers[dossier["id"]] = dossier
            if self.w.queue_model is not None:
                self.w.queue_model.upsert(dossier)
            self.w.mine_model.upsert(dossier)
        task = msg.get("task")
        if task is not None and self.w.tasks_model is not None:
            self.tasks[task["id"]] = task
            self.w.tasks_model.upsert(task)
            if self.w.task_panel is not None:
                self.w.task_panel.refresh()
        if dossier is not None and dossier["id"] == self.current_id:
            self._show_current()
            self.w.timeline.add_entry(
                {
                    "type": msg["event"],
                    "at": msg["at"],
                    "actor": msg.get("actor"),
                    "data": msg.get("data"),
                }
            )

    # -- showing a dossier --------------------------------------------------------------

    def _mine(self, d: dict[str, Any]) -> bool:
        return (d.get("owner") or {}).get("id") == self.user_id

    def _show_current(self) -> None:
        d = self.dossiers.get(self.current_id or -1)
        task = next((t for t in self.tasks.values() if d and t["dossier_id"] == d["id"]), None)
        task_mine = (
            task is not None
            and (task.get("owner") or {}).get("id") == self.user_id
            and task["status"] != TaskStatus.DONE
        )
        editable = d is not None and (self._mine(d) or task_mine or self.role is Role.SUPERVISEUR)
        self.w.dossier_form.set_dossier(d, editable=editable)
        self.w.decision_form.set_dossier(
            d, mine=d is not None and (self._mine(d) or self.role is Role.SUPERVISEUR)
        )

    def open_dossier(self, dossier_id: int, *, fetch: bool = False) -> None:
        self.current_id = dossier_id
        if dossier_id in self.dossiers:
            self._show_current()
        if fetch:
            spawn(self._fetch(dossier_id), f"fetch-dossier-{dossier_id}")

    async def _fetch(self, dossier_id: int) -> None:
        reply = await self.hub.send(p.DossierGet, dossier_id=dossier_id)
        if reply is None or self.current_id != dossier_id:
            return
        self.dossiers[dossier_id] = reply["dossier"]
        if reply.get("task"):
            self.tasks[reply["task"]["id"]] = reply["task"]
        self._show_current()
        self.w.timeline.show_entries(reply["timeline"])

    def clear_current(self) -> None:
        self.current_id = None
        self.w.dossier_form.set_dossier(None)
        self.w.decision_form.set_dossier(None, mine=False)
        self.w.timeline.clear()

    def _open_row(self, index: QModelIndex) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if row is not None:
            self.open_dossier(row["id"], fetch=True)

    # -- the phone line -------------------------------------------------------------------

    def on_line_event(self, ev: LineEvent) -> None:
        bar = self.w.call_bar
        kind = ev.kind
        if kind in (
            LineEventKind.REGISTERED,
            LineEventKind.REGISTRATION_LOST,
            LineEventKind.REGISTRATION_RETRYING,
            LineEventKind.REGISTRATION_FAILED,
        ):
            label = self.line.line.label if self.line else "Ligne"
            text = {
                "registered": "prête",
                "registration_lost": "perdue",
                "registration_retrying": "nouvel essai…",
                "registration_failed": "refusée",
            }[str(kind)]
            bar.line_status.setText(f"{label} : {text}")
        elif kind is LineEventKind.RINGING:
            self.ringing[ev.call_id] = ev
            bar.show_ringing(ev.line, ev.caller)
            if self.answering:
                spawn(
                    self.hub.send(
                        p.CallOffered, call_ref=ev.call_id, line=ev.line, caller=ev.caller
                    ),
                    "call-offered",
                )
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
                self.w.training_panel.start(scenario)
        if self.dialled is not None and kind in (
            LineEventKind.DIALING,
            LineEventKind.ANSWERED,
            LineEventKind.ENDED,
            LineEventKind.RECORDING,
        ):
            self._feed_dialled(ev)
        if kind is LineEventKind.DIALING:
            self.active_call = ev.call_id
            bar.show_dialing(ev.number)
        elif kind is LineEventKind.ENDED:
            was_ringing = self.ringing.pop(ev.call_id, None)
            if self.active_call == ev.call_id:
                self.active_call = None
                bar.mute_button.setChecked(False)
            bar.show_idle("Appel manqué" if ev.reason == "caller_gave_up" else "Appel terminé")
            if was_ringing is not None and self.answering:
                spawn(
                    self.hub.send(p.CallEnded, call_ref=ev.call_id, reason=ev.reason),
                    "call-ended",
                )

    async def _call_answered(self, call_id: str) -> None:
        reply = await self.hub.send(p.CallAnswered, call_ref=call_id)
        if reply is None:
            return
        dossier = reply["dossier"]
        self.dossiers[dossier["id"]] = dossier
        self.call_dossier[call_id] = dossier["id"]
        self.w.mine_model.upsert(dossier)
        self.open_dossier(dossier["id"], fetch=True)
        self.w.focus_dossier()
        self.w.show_message(f"Dossier {dossier['number']} ouvert")

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
            self.w.show_message("Micro coupé" if muted else "Micro rétabli")

    def toggle_mute(self) -> None:
        if self._audio and self.active_call:
            self.w.call_bar.mute_button.toggle()

    def _show_levels(self) -> None:
        line = self.line.line if self.line else None
        if line is None or self.active_call is None:
            self._meter.stop()
            self.w.call_bar.show_levels(-90.0, -90.0)
            return
        rx, tx = line.levels(self.active_call)  # type: ignore[attr-defined]
        self.w.call_bar.show_levels(rx, tx)

    def transfer(self) -> None:
        """Blind transfer (REFER) of the call in hand to the level-2 group of its track."""
        if self.line is None or self.active_call is None:
            self.w.show_message("Aucun appel en cours à transférer", error=True)
            return
        group = TRANSFER_GROUPS.get(self.last_track or "")
        if group is None:
            self.w.show_message(
                "Qualifiez d'abord le dossier (P0, P1 ou P2) : il indique vers "
                "quel niveau 2 transférer",
                error=True,
            )
            return
        try:
            self.line.line.transfer(self.active_call, group)
        except (NotImplementedError, ValueError) as exc:
            self.w.show_message(f"Transfert impossible : {exc}", error=True)
            return
        self.w.show_message(f"Appel transféré au niveau 2 ({group})")

    def set_agent_state(self, state: str, reason: str) -> None:
        """Ready or paused: a paused desk does not ring (the fork goes to the others)."""
        line = self.line.line if self.line else None
        if line is not None:
            if state == "PAUSED" and hasattr(line, "pause"):
                line.pause(reason)
            elif state == "READY" and hasattr(line, "ready"):
                line.ready()
        self.w.call_bar.show_agent_state(state, reason)
        spawn(self.hub.send(DeskState, state=state), "desk-state")

    def agent_menu(self) -> None:
        self.w.call_bar.agent_button.showMenu()

    def ring_training(self) -> None:
        ring = getattr(self.line.line, "ring", None) if self.line else None
        if ring is not None:
            ring()

    # -- intents --------------------------------------------------------------------------

    def save_fields(self, dossier_id: int, fields: dict[str, Any]) -> None:
        self.hub.client.save_fields(dossier_id, fields)  # journalled, sent at once if online

    def qualify(self, dossier_id: int, priority: str) -> None:
        spawn(self._qualify(dossier_id, priority), "qualify")

    async def _qualify(self, dossier_id: int, priority: str) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(p.DossierQualify, dossier_id=dossier_id, priority=priority)
        if reply is None:
            return
        d = reply["dossier"]
        self.dossiers[d["id"]] = d
        self.last_track = d.get("track")
        if self.training_call and self.call_dossier.get(self.training_call) == d["id"]:
            self.w.training_panel.debrief(priority)
        if d.get("queue"):
            hint = " — F4 : transférer l'appel au niveau 2" if self.active_call else ""
            self.w.show_message(f"Dossier {d['number']} transmis : {Queue(d['queue']).label}{hint}")
            self.clear_current()
        else:
            self._show_current()
            self.w.show_message(
                f"Dossier {d['number']} en {priority} : clôturez-le (F8) une fois "
                "l'information donnée"
            )

    def close_dossier(self, dossier_id: int) -> None:
        spawn(self._send_and_clear(p.DossierClose, dossier_id, "Dossier clôturé"), "close")

    def close_current(self) -> None:
        if self.current_id is not None:
            self.w.dossier_form.flush()
            self.close_dossier(self.current_id)

    async def _send_and_clear(
        self, kind: type[p.Intent], dossier_id: int, done: str, **payload: Any
    ) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(kind, dossier_id=dossier_id, **payload)
        if reply is not None:
            self.w.show_message(f"{done} ({reply['dossier']['number']})")
            if self.current_id == dossier_id:
                self.clear_current()

    def decide(self, dossier_id: int, fields: dict[str, Any], close: bool) -> None:
        spawn(self._decide(dossier_id, fields, close), "decide")

    async def _decide(self, dossier_id: int, fields: dict[str, Any], close: bool) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(p.DossierDecide, dossier_id=dossier_id, **fields)
        if reply is None:
            return
        self.dossiers[dossier_id] = reply["dossier"]
        if reply.get("task"):
            self.w.show_message("Décision enregistrée : recherche de RDV transmise à l'OSNP")
            self.clear_current()
        elif close:
            await self._send_and_clear(p.DossierClose, dossier_id, "Décision et clôture")
        else:
            self._show_current()
            self.w.show_message("Décision enregistrée : clôturez le dossier (F8)")

    def move_track_of(self, dossier_id: int, track: str) -> None:
        spawn(
            self._send_and_clear(
                p.DossierMoveTrack, dossier_id, f"Dossier basculé en {track}", track=track
            ),
            "move-track",
        )

    def move_track(self) -> None:
        self.w.decision_form.request_move_track()

    def forward(self, dossier_id: int) -> None:
        spawn(
            self._send_and_clear(
                p.DossierForward,
                dossier_id,
                "Transmis au médecin AMU",
                queue=str(Queue.AMU_MEDECIN),
            ),
            "forward",
        )

    def validate(self) -> None:
        """Ctrl+Entrée: the main action of this desk for the dossier in hand."""
        if self.role in (Role.ARM_N1,) or (
            self.role is Role.SUPERVISEUR
            and self.w.dossier_form.qualify_box
            and self.w.dossier_form.qualify_box.isEnabled()
        ):
            self.w.dossier_form.request_qualify()
        elif self.role.is_doctor:
            self.w.decision_form.request_decide(close=False)
        elif self.role is Role.ARM_N2:
            self.w.decision_form.request_forward()
        elif self.role is Role.OSNP and self.w.task_panel is not None:
            self.w.task_panel.request_close()

    def take_next(self) -> None:
        if self.w.queue_model is None:
            return
        queue = sorted(self.w.queues)[0] if len(self.w.queues) == 1 else None
        if queue is None:  # several queues: the most urgent row shown first
            row = self.w.queue_model.row_at(0)
            if row is not None:
                spawn(self._take(row["id"]), "take")
            return
        spawn(self._take_next(queue), "take-next")

    async def _take_next(self, queue: Queue) -> None:
        reply = await self.hub.send(p.QueueNext, queue=str(queue))
        if reply is not None:
            self._taken(reply["dossier"])

    def _take_row(self, index: QModelIndex) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if row is not None:
            spawn(self._take(row["id"]), "take")

    async def _take(self, dossier_id: int) -> None:
        reply = await self.hub.send(p.DossierTake, dossier_id=dossier_id)
        if reply is not None:
            self._taken(reply["dossier"])

    def _taken(self, dossier: dict[str, Any]) -> None:
        self.dossiers[dossier["id"]] = dossier
        self.w.mine_model.upsert(dossier)
        if self.w.queue_model is not None:
            self.w.queue_model.upsert(dossier)
        self.open_dossier(dossier["id"], fetch=True)
        self.w.show_message(f"Dossier {dossier['number']} pris en charge")
        self.w.focus_decision() if self.role.is_doctor else self.w.focus_dossier()

    def take_task(self, task_id: int) -> None:
        spawn(self._take_task(task_id), "take-task")

    async def _take_task(self, task_id: int) -> None:
        reply = await self.hub.send(p.TaskTake, task_id=task_id)
        if reply is not None and self.w.tasks_model is not None:
            self.tasks[task_id] = reply["task"]
            self.w.tasks_model.upsert(reply["task"])
            if self.w.task_panel is not None:
                row = self.w.tasks_model.position(task_id)
                if row is not None:
                    self.w.task_panel.table.selectRow(row)
                self.w.task_panel.refresh()
            self.open_dossier(reply["task"]["dossier_id"], fetch=True)
            self.open_callback(reply["task"])
            self.w.show_message("Recherche de RDV prise : appelez d'abord le médecin traitant")

    def close_task(self, task_id: int, payload: dict[str, Any]) -> None:
        spawn(self._close_task(task_id, payload), "close-task")

    async def _close_task(self, task_id: int, payload: dict[str, Any]) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(p.TaskClose, task_id=task_id, **payload)
        if reply is not None:
            self.w.show_message(f"Recherche terminée, dossier {reply['dossier']['number']} clôturé")
            if self.w.task_panel is not None:
                self.w.task_panel.after_close()
            self.clear_current()

    # -- the OSNP's call-back panel ---------------------------------------------------------

    def callback_intent(self, type_: str, payload: dict[str, Any]) -> None:
        spawn(self._callback_intent(type_, payload), type_)

    async def _callback_intent(self, type_: str, payload: dict[str, Any]) -> None:
        reply = await self.hub.send(type_, **payload)
        if reply is not None and self.w.callback_panel is not None:
            self.w.callback_panel.apply_reply(type_, reply)

    def open_callback(self, task: dict[str, Any]) -> None:
        panel = self.w.callback_panel
        mine = (task.get("owner") or {}).get("id") == self.user_id
        if panel is not None and mine and task["status"] == TaskStatus.IN_PROGRESS:
            if panel.task_id != task["id"]:
                panel.open_task(task)

    def dial_target(self, target_id: int, number: str) -> None:
        if self.line is None:
            self.w.show_message(f"Pas de ligne pour appeler le {number}", error=True)
            return
        self.dialled = DialledCall(target_id, number)
        self.line.line.dial(number)
        self.w.show_message(f"Appel du {number}…")

    def _feed_dialled(self, ev: LineEvent) -> None:
        call = self.dialled
        if call is None or not call.feed(ev):
            return
        if call.ended and self.w.callback_panel is not None:
            # Attached at the hang-up, again when the recording is complete.
            self.w.callback_panel.attach_call(call.target_id, call.attempt_fields())
            if ev.kind is LineEventKind.ENDED and call.suggested_result() is not None:
                self.w.show_message("Pas de réponse : notez le résultat (rappel planifié)")

    def _reminder(self, msg: dict[str, Any]) -> None:
        """A call-back asked for now: ring the desk and show the target."""
        task = msg.get("task") or {}
        data = msg.get("data") or {}
        QApplication.beep()
        self.w.show_message(
            f"Rappel prévu maintenant : {data.get('target') or 'médecin'} "
            f"({task.get('patient') or ''})",
            error=True,
        )
        panel = self.w.callback_panel
        if panel is not None:
            if panel.task_id != task.get("id") and task:
                panel.open_task(task)
            if data.get("target_id"):
                panel.select_target(int(data["target_id"]))
