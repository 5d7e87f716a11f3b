"""The regulation flow as a hub extension: its handlers, all of them batchable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.flow import protocol as p
from app.flow.handlers import FlowHandlers
from app.flow.snapshot import visible_now
from app.hub.auth import Principal
from app.hub.extensions import Extension, Handler
from app.hub.payloads import SnapshotItems
from app.hub.service import HubService, SnapshotPart


class FlowExtension(Extension):
    """Calls, dossiers, queues and OSNP tasks."""

    name = "app.flow"
    protocol = p.INTENTS

    def __init__(self, service: HubService):
        self.flow = FlowHandlers(service)

    def handlers(self) -> Mapping[type[p.Intent], Handler]:
        return self.flow.handlers()

    def snapshot_parts(self) -> Sequence[SnapshotPart]:
        return (self.snapshot,)

    def snapshot(self, s: Session, actor: Principal, now: datetime) -> SnapshotItems:
        return visible_now(s, actor, now, self.flow.user)

    def batchable(self) -> frozenset[type[p.Intent]]:
        # They only write rows: group commit may apply several in one transaction.
        return frozenset(self.flow.handlers())
