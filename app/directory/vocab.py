"""The directory's vocabulary: slot visibility, agenda level, participation mode.

Values are stored and sent on the wire; ``label`` is what the desks show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.enums import ConsultationType
from app.domain.room import PARIS
from app.domain.room import WEEKLY_SNP_CAP as WEEKLY_SNP_CAP  # the directory applies it

#: Slots are searched and shown this far ahead (the national platform shows 3 days).
HORIZON = timedelta(hours=72)
#: Agendas are imported this far ahead (every instance of a recurring event), so the
#: search horizon rolls forward over days without a re-import.
IMPORT_HORIZON = timedelta(weeks=4)


class Visibility(StrEnum):
    """TRE-R314 TypeCreneau, as in the SAS FHIR guide's ``meta.security``."""

    PUBLIC = "PUBLIC"  # also open to patients on public booking sites
    PRO = "PRO"  # professionals only
    SNP = "SNP"  # reserved to the SAS regulation (soins non programmés)
    CPTS = "CPTS"  # organised by the CPTS


class AgendaLevel(StrEnum):
    NONE = "none"  # no interfaced software: slots are typed in, the OSNP phones
    VISIBILITY = "visibility"  # software publishes slots, the OSNP still phones to confirm
    END_TO_END = "end_to_end"  # the OSNP books directly

    @property
    def label(self) -> str:
        return {
            "none": "agenda non interfacé",
            "visibility": "interfacé (visibilité)",
            "end_to_end": "interfacé de bout en bout",
        }[self.value]


class Mode(StrEnum):
    """How the effecteur takes part, as the national platform shows it."""

    INDIVIDUEL = "individuel"
    CPTS = "CPTS"
    MSP = "MSP"
    SOS_MEDECINS = "SOS Médecins"
    CENTRE_DE_SANTE = "centre de santé"


class StructureKind(StrEnum):
    CPTS = "CPTS"
    MSP = "MSP"
    SOS_MEDECINS = "SOS Médecins"
    CENTRE_DE_SANTE = "centre de santé"


class SlotSource(StrEnum):
    MANUAL = "manual"
    CSV = "csv"
    ICS = "ics"
    FHIR = "fhir"
    TEXT = "text"  # materialised from a free-text weekly availability
    DEMO = "demo"


class SlotStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


#: FHIR v3 ActEncounterCode used by the SAS guide for the consultation type.
SERVICE_TYPE_OF_FHIR = {
    "AMB": ConsultationType.CABINET,
    "VR": ConsultationType.TELECONSULTATION,
    "HH": ConsultationType.VISITE,
}
FHIR_OF_SERVICE_TYPE = {v: k for k, v in SERVICE_TYPE_OF_FHIR.items()}

PAEDIATRIC_AGE = 16  # under this age, doctors with paediatric skills come first

TYPE_LABELS = {
    ConsultationType.CABINET: "Cabinet",
    ConsultationType.TELECONSULTATION: "Téléconsultation",
    ConsultationType.VISITE: "Visite à domicile",
}


def week_bounds(at: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to next Monday 00:00 (Paris time) of the week containing ``at``, in UTC."""
    local = at.astimezone(PARIS)
    monday = (local - timedelta(days=local.weekday())).date()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=PARIS)
    nxt = monday + timedelta(days=7)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=PARIS)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


#: An agenda slot repeats at most this many weeks and takes at most this many patients.
MAX_WEEKS = 12
MAX_CAPACITY = 50


#: "Disponible sous": the national platform's time bands, in hours from now.
BANDS: dict[str, tuple[int, int]] = {
    "0-4": (0, 4),
    "4-8": (4, 8),
    "8-12": (8, 12),
    "12-24": (12, 24),
    "24-48": (24, 48),
    "48-72": (48, 72),
}
