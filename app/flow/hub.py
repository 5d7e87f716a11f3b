"""The regulation flow as a hub extension: its handlers, all of them batchable."""

from __future__ import annotations

from collections.abc import Mapping

from app.flow import protocol as p
from app.flow.handlers import FlowHandlers
from app.hub.extensions import Extension, Handler
from app.hub.service import HubService


class FlowExtension(Extension):
    """Calls, dossiers, queues and OSNP tasks."""

    name = "app.flow"
    protocol = p.INTENTS

    def __init__(self, service: HubService):
        self.flow = FlowHandlers(service)

    def handlers(self) -> Mapping[type[p.Intent], Handler]:
        return self.flow.handlers()

    def batchable(self) -> frozenset[type[p.Intent]]:
        # They only write rows: group commit may apply several in one transaction.
        return frozenset(self.flow.handlers())
