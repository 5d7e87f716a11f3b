"""The room's appointment feedback endpoint (hub.toml ``[rendez_vous]``).

Off unless the section is there: the hub then listens for the agenda editors'
appointments (the SAS guide's INT_R03) over HTTPS with mutual TLS, and only the
editors named here (their certificate's CN and OU) are let in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The port the guide leaves to each room; 8443 is free beside the desks' 8765.
DEFAULT_PORT = 8443
#: How long a booking made on an editor's page may wait for the editor's appointment
#: before the OSNP is told to check the agenda or phone the doctor.
DEFAULT_PENDING_MINUTES = 15.0


@dataclass(frozen=True)
class EditorCertificate:
    """An agenda editor allowed to post appointments: its certificate's CN and OU."""

    name: str
    common_name: str
    unit: str


@dataclass(frozen=True)
class AppointmentSettings:
    """Where the endpoint listens, its certificate, and whom it lets in."""

    cert: Path
    key: Path
    #: The authority the editors' client certificates must chain to (IGC Santé).
    client_ca: Path
    editors: tuple[EditorCertificate, ...]
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    #: The FHIR base the editors are given: ``https://host:port{base}/Appointment``.
    base: str = "/fhir"
    #: ``attente_agenda_minutes``: see DEFAULT_PENDING_MINUTES.
    pending_minutes: float = DEFAULT_PENDING_MINUTES

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}{self.base}"


@dataclass(frozen=True)
class PlatformSettings:
    """The national SAS platform's search, opened from a dossier (``[plateforme_sas]``).

    ``origin`` is the regulation software's assigning authority as registered with the
    platform: the platform refuses a search whose origin it does not know."""

    url: str
    origin: str
