"""The appointments' intents as the desk sends them: no database, no hub code, so a desk
that imports this module loads neither."""

from __future__ import annotations

from typing import ClassVar, Literal

from app.hub.protocol import EntityId, Intent, IntentName


class AppointmentPlatformSearch(Intent):
    """The platform search address for ``dossier_id`` (whoever may see the dossier)."""

    type: Literal[IntentName.APPOINTMENT_PLATFORM_SEARCH] = IntentName.APPOINTMENT_PLATFORM_SEARCH
    dossier_id: EntityId
    read_only: ClassVar[bool] = True  # writes nothing but its audit row
