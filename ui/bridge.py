"""Hand-over points into Qt: hub client callbacks and phone line events become signals."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from app.client.hub_client import HubClient, HubError, LinkState
from app.client.wire import DESK_WIRE
from app.hub.protocol import Intent
from telephony.line import LineEvent, PhoneLine


class HubBridge(QObject):
    """Re-emits the client's callbacks as Qt signals (all on the GUI thread's loop)."""

    hub_event = Signal(dict)  # not "event": that would hide QObject.event()
    snapshot = Signal(dict)
    link = Signal(str, str)  # LinkState value, detail
    error = Signal(str)

    def __init__(self, client: HubClient, parent: QObject | None = None):
        super().__init__(parent)
        self.client = client
        client.on_event.append(self.hub_event.emit)
        client.on_snapshot.append(self.snapshot.emit)
        client.on_state.append(lambda state, detail: self.link.emit(str(state), detail))
        client.on_error.append(lambda exc: self.error.emit(exc.message))

    async def send(
        self, intent: type[Intent] | str, timeout: float = 10.0, /, **fields: Any
    ) -> dict[str, Any] | None:
        """Build the intent from the hub's own model and send it; a refusal (by the model
        or by the hub) is shown to the user, never raised into Qt."""
        # A name crossed a Qt signal as a plain str: the model is looked up by its wire name.
        model = DESK_WIRE.intent_class(intent) if isinstance(intent, str) else intent
        try:
            return await self.client.call(model, timeout, **fields)
        except HubError as exc:
            self.error.emit(exc.message)
            return None

    @property
    def ready(self) -> bool:
        return self.client.state is LinkState.READY


class LineBridge(QObject):
    """The SIP line and the training line call back on their own threads: cross here."""

    line_event = Signal(object)

    def __init__(self, line: PhoneLine, parent: QObject | None = None):
        super().__init__(parent)
        self.line = line
        # A queued connection delivers on the receiver's (GUI) thread whatever the emitter.
        self._relay.connect(self.line_event.emit, Qt.ConnectionType.QueuedConnection)
        line.subscribe(self._from_any_thread)

    _relay = Signal(object)

    def _from_any_thread(self, event: LineEvent) -> None:
        self._relay.emit(event)
