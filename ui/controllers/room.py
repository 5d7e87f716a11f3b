"""The supervisor's room view and the month's statistics window."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.hub.payloads import Snapshot, as_reply
from app.stats.protocol import LiveReply, ReportReply, StatsLive, StatsReport
from ui.bridge import HubBridge
from ui.controllers.actions import shortcut_action
from ui.controllers.bus import EventBus
from ui.tasks import spawn
from ui.widgets.statistics import StatisticsView
from ui.widgets.supervision import SupervisionView


class SupervisionController(QObject):
    """Every event moves the room's counters; a snapshot resets them, desks included."""

    def __init__(
        self, view: SupervisionView, hub: HubBridge, bus: EventBus, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.view = view
        self.hub = hub
        bus.on_every(view.apply)

    def on_snapshot(self, snap: Snapshot) -> None:
        self.view.load(snap)
        spawn(self._load_desks(snap), "supervision-desks")

    async def _load_desks(self, snap: Snapshot) -> None:
        reply = await self.hub.send(StatsLive)
        self.view.load(snap, as_reply(reply, LiveReply)["desks"] if reply else [])


class StatisticsController(QObject):
    def __init__(
        self,
        window: QWidget,
        view: StatisticsView,
        hub: HubBridge,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.view = view
        self.hub = hub
        view.report_requested.connect(lambda month: spawn(self._report(month), "stats-report"))
        self.action = shortcut_action(self, window, "open_statistics", self.open)

    def open(self) -> None:
        """F10: the month's statistics in their own window, asked for the first time."""
        self.view.show()
        self.view.raise_()
        if not self.view.tables:
            self.view.request()

    async def _report(self, month: str) -> None:
        reply = await self.hub.send(StatsReport, 60, month=month)
        if reply is not None:
            self.view.show_report(as_reply(reply, ReportReply)["report"])
