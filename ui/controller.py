"""The desk's session wiring: the hub's link, snapshot and events reach the panels'
controllers (ui.controllers), each subscribed by name on the event bus to what it shows.
It decides nothing the hub should decide."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject

from app.client.hub_client import LinkState
from app.domain.permissions import Action
from app.hub.events import EventName
from app.hub.payloads import LoginLocked, PscFallback, Snapshot, event_data
from ui import psc_text
from ui.bridge import HubBridge, LineBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.agenda import AgendaController
from ui.controllers.appointments import BoardController
from ui.controllers.bus import EventBus
from ui.controllers.calls import CallsController
from ui.controllers.dossier import DossierController, Tell
from ui.controllers.imports import ImportController
from ui.controllers.osnp import CallbackController, TaskController
from ui.controllers.queues import QueueList, QueuesController
from ui.controllers.room import StatisticsController, SupervisionController
from ui.controllers.search import SearchController
from ui.dossier_export import DossierExporter
from ui.main_window import DeskWindow
from ui.platform_launch import PlatformLauncher
from ui.recording_playback import RecordingPlayback

LINK_TEXT = {
    LinkState.READY: "Hub : connecté",
    LinkState.CONNECTED: "Hub : connecté (session à rouvrir)",
    LinkState.CONNECTING: "Hub : connexion…",
    LinkState.DISCONNECTED: "Hub : connexion perdue — reconnexion automatique, la saisie est "
    "conservée",
}


def locked_text(data: LoginLocked) -> str:
    """The supervisor's alert when repeated wrong passwords lock an account or a desk."""
    until = data["until"]
    when = datetime.fromisoformat(until).astimezone().strftime("%H:%M") if until else "?"
    who = (
        f"le compte « {data['username'] or '?'} »"
        if data["kind"] == "account"
        else f"le poste {data['address'] or '?'}"
    )
    return f"Connexion bloquée jusqu'à {when} : {data['failures']} mots de passe erronés pour {who}"


class DeskController(QObject):
    def __init__(self, window: DeskWindow, hub: HubBridge, line: LineBridge | None):
        super().__init__(window)
        self.w = w = window
        self.hub = hub
        self.line = line
        tell = w.show_message
        self._wire_hub(tell)
        self._start_flow(tell)
        self._start_panels(tell)
        self._start_tools(tell)

    def _wire_hub(self, tell: Tell) -> None:
        """The hub's link, snapshot, errors and login alerts; the event bus for the panels."""
        hub = self.hub
        # Hub events reach the panels that subscribed to them by name (ui.controllers.bus).
        self.bus = bus = EventBus()
        hub.hub_event.connect(bus.publish)
        hub.snapshot.connect(self.on_snapshot)
        hub.link.connect(self.on_link)
        hub.error.connect(lambda text: tell(f"Refusé : {text}", error=True))
        bus.on(
            EventName.LOGIN_LOCKED,
            lambda msg: tell(locked_text(event_data(msg, LoginLocked)), error=True),
        )
        bus.on(
            EventName.LOGIN_PSC_FALLBACK,
            lambda msg: tell(psc_text.fallback_alert(event_data(msg, PscFallback)), error=True),
        )

    def _start_flow(self, tell: Tell) -> None:
        """The regulation flow: the dossier, the queue lists, the calls."""
        w, hub, line, bus = self.w, self.hub, self.line, self.bus
        self.dossier = DossierController(
            w,
            w.dossier_form,
            w.decision_form,
            w.timeline,
            hub,
            bus,
            tell,
            role=w.role,
            user_id=w.user_id,
            in_call=lambda: self.calls.active_call is not None,
            parent=self,
        )
        queue = None
        if w.queue_table is not None and w.queue_model is not None:
            queue = QueueList(w.queue_table, w.queue_model, w.queues)
        focus = w.focus_decision if w.role.is_doctor else w.focus_dossier
        self.lists = QueuesController(
            w, queue, (w.mine_table, w.mine_model), hub, bus, self.dossier, tell, focus, self
        )
        self.calls = CallsController(
            w,
            hub,
            line,
            self.dossier,
            self.lists,
            answering=w.granted.can(Action.ANSWER_CALLS),
            parent=self,
        )
        self.history = self.calls.history  # antériorités on ring, dossier search

    def _start_panels(self, tell: Tell) -> None:
        """The panels the role's window has (call-back, tasks, agenda, search…)."""
        w, hub, line, bus = self.w, self.hub, self.line, self.bus
        self.callback: CallbackController | None = None
        if w.callback_panel is not None:
            self.callback = CallbackController(
                w.callback_panel, hub, line, bus, tell, user_id=w.user_id, parent=self
            )
        self.tasks: TaskController | None = None
        if w.task_panel is not None and w.tasks_model is not None:
            self.tasks = TaskController(
                w,
                w.task_panel,
                w.tasks_model,
                hub,
                bus,
                self.dossier,
                self.callback,
                tell,
                role=w.role,
                parent=self,
            )
        self.panels: list[QObject] = []
        if w.agenda_editor is not None:
            self.panels.append(AgendaController(w, w.agenda_editor, hub, bus, tell, self))
        if w.import_dialog is not None:
            self.panels.append(ImportController(w, w.import_dialog, hub, tell, self))
        if w.statistics is not None:
            self.panels.append(StatisticsController(w, w.statistics, hub, self))
        self.supervision: SupervisionController | None = None
        if w.supervision is not None:
            self.supervision = SupervisionController(w.supervision, hub, bus, self)
        self.search: SearchController | None = None
        if w.search_panel is not None:
            current = lambda: self.dossier.current_id  # noqa: E731
            search = SearchController(w, w.search_panel, hub, line, bus, tell, current, self)
            self.panels.append(search)
            self.search = search

    def _start_tools(self, tell: Tell) -> None:
        """The dossier's tools: recording playback, export, board, platform search."""
        w, bus = self.w, self.bus
        # Recordings go up to the hub by themselves (app.client.recordings, see ui/desk.py).
        self.playback = RecordingPlayback(self.dossier, tell, w.role, parent=self, window=w)
        shortcut_action(self.playback, w, "play_recording", self.playback.toggle)
        self.exporter = DossierExporter(self.dossier, tell, parent=self)
        shortcut_action(self.exporter, w, "export_dossier", self.exporter.export)
        self.board: BoardController | None = None
        if w.appointment_board is not None:
            self.board = BoardController(w, w.appointment_board, self.dossier, bus, tell, self)
        self.platform = PlatformLauncher(self.dossier, tell, parent=self)
        shortcut_action(self.platform, w, "platform_search", self.platform.launch)

    def on_link(self, state: str, detail: str) -> None:
        self.w.link_label.setText(LINK_TEXT.get(LinkState(state), state))

    def on_snapshot(self, snap: Snapshot) -> None:
        self.lists.load(snap)
        if self.tasks is not None:
            self.tasks.load(snap)
        if self.supervision is not None:
            self.supervision.on_snapshot(snap)
        if self.board is not None:
            self.board.load()  # again after a reconnection: what came meanwhile
        self.dossier.load(snap)  # last: a desk restarted mid-dossier shows it again
