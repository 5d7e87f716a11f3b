"""A kernel service with the regulation flow installed, for whoever drives the flow
without a hub: the command line's tools, the benchmarks and the tests."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import HubSettings
from app.db.types import utcnow
from app.flow.hub import FlowExtension
from app.hub.extensions import Installed
from app.hub.service import Clock, HubService


class FlowService(HubService):
    """The kernel (app.hub.service) with the flow's handlers registered."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock = utcnow,
        settings: HubSettings | None = None,
    ):
        super().__init__(sessions, clock, settings)
        self.flow = FlowExtension(self)
        Installed(self, [self.flow])
