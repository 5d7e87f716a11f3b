"""The desk's wire: the protocol modules the desk speaks, registered here explicitly.

The desk imports protocol modules only (the kernel's wire types and each feature's
``protocol.py``), never a hub-side module: no SQLAlchemy, no handlers, no booking engine
(tests/ui/test_desk_imports.py checks the started desk). An intent the desk sends by its
wire name (a name that crossed a Qt signal) is looked up in :data:`DESK_WIRE`.
"""

from __future__ import annotations

from app.appointments import protocol as appointments
from app.audit import protocol as audit
from app.callback import protocol as callback
from app.directory import protocol as directory
from app.flow import protocol as flow
from app.history import protocol as history
from app.hub import payloads
from app.hub import protocol as p
from app.interop import protocol as interop
from app.recordings import protocol as recordings
from app.stats import protocol as stats

#: The protocol modules the desk speaks: their intents, replies and event payloads.
PROTOCOLS = (flow, appointments, audit, callback, directory, history, interop, recordings, stats)

DESK_WIRE = p.Wire(
    p.SESSION_INTENTS,
    *(m.INTENTS for m in PROTOCOLS),
    replies=(payloads.SESSION_REPLIES, *(m.REPLIES for m in PROTOCOLS)),
    events=(payloads.SESSION_EVENTS, *(m.EVENTS for m in PROTOCOLS)),
)
