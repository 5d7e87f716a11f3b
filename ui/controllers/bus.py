"""The desk's event bus: hub events handed to the panels that asked for them by name."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from app.hub.events import EventName
from app.hub.payloads import EventMessage

log = logging.getLogger(__name__)
#: An event as the desk receives it: its ``data`` read through its type (event_data).
Message = EventMessage
Handler = Callable[[Message], None]


class EventBus:
    def __init__(self) -> None:
        self._by_name: dict[EventName, list[Handler]] = {}
        self._every: list[Handler] = []

    def on(self, names: EventName | Iterable[EventName], handler: Handler) -> None:
        """Call ``handler`` with each event of these names (in the order they arrive)."""
        for name in [names] if isinstance(names, EventName) else names:
            self._by_name.setdefault(name, []).append(handler)

    def on_every(self, handler: Handler) -> None:
        """Call ``handler`` with every event (the supervisor's room view, the models)."""
        self._every.append(handler)

    def names(self, owner: object) -> set[EventName]:
        """The events a panel or controller subscribed to (its bound methods), by name."""
        return {
            name
            for name, handlers in self._by_name.items()
            if any(getattr(h, "__self__", None) is owner for h in handlers)
        }

    def publish(self, msg: Message) -> None:
        for handler in self._every:
            handler(msg)
        try:
            name = EventName(msg.get("event", ""))
        except ValueError:  # a newer hub: the panels that know it are not here yet
            log.info("event %r has no subscriber on this desk", msg.get("event"))
            return
        for handler in self._by_name.get(name, ()):
            handler(msg)
