"""The appointments' intents as the desk sends them: no database, no hub code, so a desk
that imports this module loads neither."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from app.hub.protocol import EntityId, Intent, IntentName


class AppointmentPlatformSearch(Intent):
    """The platform search address for ``dossier_id`` (whoever may see the dossier)."""

    type: Literal[IntentName.APPOINTMENT_PLATFORM_SEARCH] = IntentName.APPOINTMENT_PLATFORM_SEARCH
    dossier_id: EntityId
    read_only: ClassVar[bool] = True  # writes nothing but its audit row


class AppointmentBoard(Intent):
    """The appointments received that belong to no dossier yet (the board's dock)."""

    type: Literal[IntentName.APPOINTMENT_BOARD] = IntentName.APPOINTMENT_BOARD
    limit: Annotated[int, Field(ge=1, le=500)] = 200
    read_only: ClassVar[bool] = True


class AppointmentAttach(Intent):
    """Attach a received appointment to a dossier (from the board, without retyping)."""

    type: Literal[IntentName.APPOINTMENT_ATTACH] = IntentName.APPOINTMENT_ATTACH
    appointment_id: EntityId
    dossier_id: EntityId
