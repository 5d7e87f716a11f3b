"""The appointments' intents as the desk sends them: no database, no hub code, so a desk
that imports this module loads neither."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from app.hub.protocol import EntityId, Intent, IntentName


class AppointmentPlatformSearch(Intent, name=IntentName.APPOINTMENT_PLATFORM_SEARCH):
    """The platform search address for ``dossier_id`` (whoever may see the dossier)."""

    dossier_id: EntityId
    read_only: ClassVar[bool] = True  # writes nothing but its audit row


class AppointmentBoard(Intent, name=IntentName.APPOINTMENT_BOARD):
    """The appointments received that belong to no dossier yet (the board's dock)."""

    limit: Annotated[int, Field(ge=1, le=500)] = 200
    read_only: ClassVar[bool] = True


class AppointmentAttach(Intent, name=IntentName.APPOINTMENT_ATTACH):
    """Attach a received appointment to a dossier (from the board, without retyping)."""

    appointment_id: EntityId
    dossier_id: EntityId


class AppointmentJournal(Intent, name=IntentName.APPOINTMENT_JOURNAL):
    """The editors' messages, newest first (refused ones by default): supervisor only."""

    outcome: Literal["refused", "all"] = "refused"
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    read_only: ClassVar[bool] = True


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    AppointmentPlatformSearch,
    AppointmentBoard,
    AppointmentAttach,
    AppointmentJournal,
)
