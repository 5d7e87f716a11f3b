"""The regulation flow as a hub extension: its handlers, all of them batchable."""

from __future__ import annotations

from app.flow.handlers import FlowHandlers
from app.hub.service import HubService


def install(service: HubService) -> FlowHandlers:
    """Register the flow's intents: they only write rows, so group commit may apply
    several of them in one transaction."""
    flow = FlowHandlers(service)
    for intent, handler in flow.handlers().items():
        service.register(intent, handler, batchable=True)
    return flow
