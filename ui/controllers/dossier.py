"""The dossier in hand: its form, its decision and its timeline; qualify, decide, close,
forward, move track, release. It keeps the dossiers and tasks this desk has seen (the
snapshot, the hub's replies and the events that carry them)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.domain.enums import DossierStatus, Queue, Role, TaskStatus
from app.flow import protocol as p
from app.hub.events import DOSSIER_EVENTS
from app.hub.payloads import DossierView, Snapshot, TaskView, TimelineEntry, as_reply
from ui.bridge import HubBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus, Message
from ui.tasks import spawn
from ui.widgets.decision_form import DecisionForm
from ui.widgets.dossier_form import DossierForm
from ui.widgets.timeline import Timeline

Tell = Callable[..., None]


#: How many of the open dossier's live events are kept to survive a slower fetch.
RECENT_KEPT = 200


class DossierController(QObject):
    #: The hub accepted a priority: the dossier as it now is, and the priority chosen.
    qualified = Signal(dict, str)

    def __init__(
        self,
        window: QWidget,
        form: DossierForm,
        decision: DecisionForm,
        timeline: Timeline,
        hub: HubBridge,
        bus: EventBus,
        tell: Tell,
        *,
        role: Role,
        user_id: int,
        in_call: Callable[[], bool],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.form, self.decision, self.timeline = form, decision, timeline
        self.hub = hub
        self.tell = tell
        self.role = role
        self.user_id = user_id
        self.in_call = in_call  # a call in hand: the N1 is reminded that F4 transfers it
        self.dossiers: dict[int, DossierView] = {}
        self.tasks: dict[int, TaskView] = {}
        self.current_id: int | None = None
        #: The open dossier's events received live: a timeline fetched before one of
        #: them was written (its reply overtaken by the event) must not drop it.
        self._recent: list[TimelineEntry] = []
        form.fields_edited.connect(self.save_fields)
        form.qualify_requested.connect(self.qualify)
        form.close_requested.connect(self.close_dossier)
        decision.decide_requested.connect(self.decide)
        decision.close_requested.connect(self.close_dossier)
        decision.move_track_requested.connect(self.move_track_of)
        decision.release_requested.connect(
            lambda did: spawn(
                self._send_and_clear(p.DossierRelease, did, "Dossier remis en file"), "release"
            )
        )
        decision.forward_requested.connect(self.forward)
        bus.on(DOSSIER_EVENTS, self.on_event)
        self.actions = [
            shortcut_action(self, window, "close_current", self.close_current),
            shortcut_action(self, window, "move_track", decision.request_move_track),
        ]
        for priority in ("P0", "P1", "P2", "P3"):  # Alt+0 … Alt+3
            choose = functools.partial(form.choose_priority, priority)
            self.actions.append(
                shortcut_action(self, window, f"priority_{priority.lower()}", choose)
            )
        if role is not Role.OSNP:  # the OSNP's Ctrl+Entrée closes its search (tasks)
            self.actions.append(shortcut_action(self, window, "validate", self.validate))

    # -- what the hub says -------------------------------------------------------------

    def load(self, snap: Snapshot) -> None:
        self.dossiers = {d["id"]: d for d in snap["dossiers"]}
        self.tasks = {t["id"]: t for t in snap["tasks"]}
        if self.current_id is None:
            # A desk restarted mid-dossier shows that dossier again.
            mine = [
                d
                for d in self.dossiers.values()
                if self._mine(d) and d["status"] != DossierStatus.CLOSED
            ]
            if mine:
                latest = max(mine, key=lambda d: d["updated_at"] or "")
                self.open(latest["id"], fetch=True)
                self.tell(f"Dossier {latest['number']} repris là où il en était")
        elif self.current_id in self.dossiers:
            self._show_current()

    def on_event(self, msg: Message) -> None:
        dossier = msg.get("dossier")
        if dossier is None:
            return
        self.dossiers[dossier["id"]] = dossier
        task = msg.get("task")
        if task is not None:
            self.tasks[task["id"]] = task
        if dossier["id"] == self.current_id:
            self._show_current()
            entry: TimelineEntry = {
                "seq": msg["seq"],
                "type": msg["event"],
                "at": msg["at"],
                "actor": msg["actor"],
                "data": msg["data"],
            }
            self._recent = [*self._recent[-(RECENT_KEPT - 1) :], entry]
            self.timeline.add_entry(entry)

    # -- showing a dossier -------------------------------------------------------------

    def _mine(self, d: DossierView) -> bool:
        owner = d["owner"]
        return owner is not None and owner["id"] == self.user_id

    def _show_current(self) -> None:
        d = self.dossiers.get(self.current_id or -1)
        task = next((t for t in self.tasks.values() if d and t["dossier_id"] == d["id"]), None)
        owner = task["owner"] if task is not None else None
        task_mine = (
            task is not None
            and owner is not None
            and owner["id"] == self.user_id
            and task["status"] != TaskStatus.DONE
        )
        boss = self.role is Role.SUPERVISEUR
        self.form.set_dossier(d, editable=d is not None and (self._mine(d) or task_mine or boss))
        self.decision.set_dossier(d, mine=d is not None and (self._mine(d) or boss))

    def open(self, dossier_id: int, *, fetch: bool = False) -> None:
        if dossier_id != self.current_id:
            self._recent = []
        self.current_id = dossier_id
        if dossier_id in self.dossiers:
            self._show_current()
        if fetch:
            spawn(self._fetch(dossier_id), f"fetch-dossier-{dossier_id}")

    def show(self, dossier: DossierView) -> None:
        """A dossier the hub just handed to this desk (answered, taken): open it."""
        self.dossiers[dossier["id"]] = dossier
        self.open(dossier["id"], fetch=True)

    def remember_task(self, task: TaskView) -> None:
        self.tasks[task["id"]] = task

    async def _fetch(self, dossier_id: int) -> None:
        reply = await self.hub.send(p.DossierGet, dossier_id=dossier_id)
        if reply is not None:
            self.apply_fetched(dossier_id, as_reply(reply, p.DossierGetReply))

    def apply_fetched(self, dossier_id: int, reply: p.DossierGetReply) -> None:
        """Show a ``dossier.get`` reply, keeping the live events it is older than (a read
        runs beside the writer: its reply can come after an event it does not hold)."""
        if self.current_id != dossier_id:
            return
        self.dossiers[dossier_id] = reply["dossier"]
        task = reply["task"]
        if task is not None:
            self.tasks[task["id"]] = task
        self._show_current()
        entries = reply["timeline"]
        last = max((e.get("seq") or 0 for e in entries), default=0)
        later = [e for e in self._recent if (e.get("seq") or 0) > last]
        self.timeline.show_entries([*entries, *later])

    def clear(self) -> None:
        self.current_id = None
        self._recent = []
        self.form.set_dossier(None)
        self.decision.set_dossier(None, mine=False)
        self.timeline.clear()

    def caller_number(self) -> str:
        """The caller's number of the dossier in hand ("" if none)."""
        current = self.dossiers.get(self.current_id) if self.current_id else None
        return current["caller_number"] if current is not None else ""

    # -- intents -----------------------------------------------------------------------

    def save_fields(self, dossier_id: int, fields: dict[str, Any]) -> None:
        self.hub.client.save_fields(dossier_id, fields)  # journalled, sent at once if online

    def qualify(self, dossier_id: int, priority: str) -> None:
        spawn(self._qualify(dossier_id, priority), "qualify")

    async def _qualify(self, dossier_id: int, priority: str) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(p.DossierQualify, dossier_id=dossier_id, priority=priority)
        if reply is None:
            return
        d = as_reply(reply, p.DossierReply)["dossier"]
        self.dossiers[d["id"]] = d
        self.qualified.emit(d, priority)
        if d["queue"]:
            hint = " — F4 : transférer l'appel au niveau 2" if self.in_call() else ""
            self.tell(f"Dossier {d['number']} transmis : {Queue(d['queue']).label}{hint}")
            self.clear()
        else:
            self._show_current()
            self.tell(
                f"Dossier {d['number']} en {priority} : clôturez-le (F8) une fois "
                "l'information donnée"
            )

    def close_dossier(self, dossier_id: int) -> None:
        spawn(self._send_and_clear(p.DossierClose, dossier_id, "Dossier clôturé"), "close")

    def close_current(self) -> None:
        if self.current_id is not None:
            self.form.flush()
            self.close_dossier(self.current_id)

    async def _send_and_clear(
        self, kind: type[p.Intent], dossier_id: int, done: str, **payload: Any
    ) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(kind, dossier_id=dossier_id, **payload)
        if reply is not None:
            self.tell(f"{done} ({as_reply(reply, p.DossierReply)['dossier']['number']})")
            if self.current_id == dossier_id:
                self.clear()

    def decide(self, dossier_id: int, fields: dict[str, Any], close: bool) -> None:
        spawn(self._decide(dossier_id, fields, close), "decide")

    async def _decide(self, dossier_id: int, fields: dict[str, Any], close: bool) -> None:
        await self.hub.client.flush()
        reply = await self.hub.send(p.DossierDecide, dossier_id=dossier_id, **fields)
        if reply is None:
            return
        decided = as_reply(reply, p.DecideReply)
        self.dossiers[dossier_id] = decided["dossier"]
        if decided["task"] is not None:
            self.tell("Décision enregistrée : recherche de RDV transmise à l'OSNP")
            self.clear()
        elif close:
            await self._send_and_clear(p.DossierClose, dossier_id, "Décision et clôture")
        else:
            self._show_current()
            self.tell("Décision enregistrée : clôturez le dossier (F8)")

    def move_track_of(self, dossier_id: int, track: str) -> None:
        done = f"Dossier basculé en {track}"
        spawn(self._send_and_clear(p.DossierMoveTrack, dossier_id, done, track=track), "move-track")

    def forward(self, dossier_id: int) -> None:
        queue = str(Queue.AMU_MEDECIN)
        done = "Transmis au médecin AMU"
        spawn(self._send_and_clear(p.DossierForward, dossier_id, done, queue=queue), "forward")

    def validate(self) -> None:
        """Ctrl+Entrée: the main action of this desk for the dossier in hand."""
        box = self.form.qualify_box
        if self.role is Role.ARM_N1 or (
            self.role is Role.SUPERVISEUR and box is not None and box.isEnabled()
        ):
            self.form.request_qualify()
        elif self.role.is_doctor:
            self.decision.request_decide(close=False)
        elif self.role is Role.ARM_N2:
            self.decision.request_forward()
