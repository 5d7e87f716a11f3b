"""The room's appointment feedback endpoint (hub.toml ``[rendez_vous]``).

Off unless the section is there: the hub then listens for the agenda editors'
appointments (the SAS guide's INT_R03) over HTTPS with mutual TLS, and only the
editors named here (their certificate's CN and OU) are let in. ``[plateforme_sas]``
names the national platform's search opened from a dossier. Both are this feature's
sections of hub.toml (``ENDPOINT_SECTION``, ``PLATFORM_SECTION``), read and checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from app.config import values as v
from app.config.check import certificate
from app.config.sections import Check, Key, Reading, Section, tables_of
from app.config.values import Invalid

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


_EDITOR_KEYS = ("nom", "cn", "ou")


def _editors(value: Any, base: Path) -> tuple[EditorCertificate, ...]:
    """[[rendez_vous.editeurs]] tables: nom, cn, ou (the editor's client certificate)."""
    if not isinstance(value, list) or not value or not all(isinstance(e, dict) for e in value):
        raise Invalid("au moins une table [[rendez_vous.editeurs]] (nom, cn, ou) par éditeur")
    out = []
    for n, e in enumerate(value, start=1):
        v.known_keys(n, e, _EDITOR_KEYS)
        fields = [v.text(e.get(k, ""), base) for k in _EDITOR_KEYS]
        if not all(fields):
            raise Invalid(
                f"éditeur n° {n} : nom, cn et ou obligatoires (le CN et l'OU de son "
                "certificat client IGC Santé)"
            )
        out.append(EditorCertificate(*fields))
    if len({e.name for e in out}) != len(out):
        raise Invalid("deux éditeurs portent le même nom")
    if len({(e.common_name, e.unit) for e in out}) != len(out):
        raise Invalid("deux éditeurs ont le même certificat (cn et ou)")
    return tuple(out)


def _base_path(value: Any, base: Path) -> str:
    text = v.text(value, base).rstrip("/")
    if not text.startswith("/") or any(c in text for c in "?#{} "):
        raise Invalid('chemin d\'URL attendu, commençant par /, p. ex. "/fhir"')
    return text


def _platform_url(value: Any, base: Path) -> str:
    text = v.text(value, base).rstrip("/")
    if not text.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise Invalid(
            "URL https://… de la plateforme numérique SAS attendue, p. ex. https://sas.sante.fr"
        )
    return text


def _platform_origin(value: Any, base: Path) -> str:
    text = v.text(value, base)
    if not text:
        raise Invalid(
            "l'autorité d'affectation du logiciel, telle qu'enregistrée par la plateforme"
        )
    return text


ENDPOINT_KEYS: tuple[Key, ...] = (
    Key("rendez_vous", "adresse", "host", v.text),
    Key("rendez_vous", "port", "port", v.port),
    Key("rendez_vous", "chemin", "base", _base_path),
    Key("rendez_vous", "certificat", "cert", v.file),
    Key("rendez_vous", "cle", "key", v.file),
    Key("rendez_vous", "ca_clients", "client_ca", v.file),
    Key("rendez_vous", "editeurs", "editors", _editors),
    Key("rendez_vous", "attente_agenda_minutes", "pending_minutes", v.minutes),
)

PLATFORM_KEYS: tuple[Key, ...] = (
    Key("plateforme_sas", "url", "url", _platform_url),
    Key("plateforme_sas", "origine", "origin", _platform_origin),
)


def _read_endpoint(reading: Reading) -> AppointmentSettings | None:
    """On once ``[rendez_vous]`` is there; what it cannot work without is then required,
    and its certificate, key and authority must load (said now, not at the first post)."""
    if not reading.table("rendez_vous"):
        return None
    before = len(reading.problems)
    required = ("certificat", "cle", "ca_clients", "editeurs")
    reading.require("rendez_vous", required, "pour recevoir les rendez-vous des éditeurs")
    settings = reading.apply(AppointmentSettings(Path(), Path(), Path(), ()), ENDPOINT_KEYS)
    if len(reading.problems) == before:
        unusable = v.tls_problem(settings.cert, settings.key, settings.client_ca)
        if unusable:
            reading.bad(f"[rendez_vous] {unusable}", "rendez_vous")
    return settings


def _check_endpoint(a: AppointmentSettings, now: datetime) -> list[Check]:
    """The editors' authority (IGC Santé) is readable and in date; where editors post;
    the endpoint's own certificate."""
    from cryptography import x509

    own = replace(certificate(a.cert, a.key, now), name="certificat rendez-vous")
    try:
        authorities = x509.load_pem_x509_certificates(a.client_ca.read_bytes())
    except (OSError, ValueError) as exc:
        unread = f"autorité des clients {a.client_ca} illisible : {exc}"
        return [Check("rendez-vous", False, unread), own]
    expired = [c for c in authorities if c.not_valid_after_utc <= now]
    names = ", ".join(c.subject.rfc4514_string() for c in authorities)
    if expired:
        detail = (
            f"autorité des clients {a.client_ca} expirée ({names}) : "
            "aucun éditeur ne pourra se connecter"
        )
        return [Check("rendez-vous", False, detail), own]
    editors = ", ".join(f"{e.name} (CN={e.common_name}, OU={e.unit})" for e in a.editors)
    detail = f"{a.url}/Appointment ; autorité des clients {names} ; éditeurs : {editors}"
    return [Check("rendez-vous", True, detail), own]


def _read_platform(reading: Reading) -> PlatformSettings | None:
    if not reading.table("plateforme_sas"):
        return None
    purpose = "pour ouvrir la recherche de la plateforme SAS depuis un dossier"
    reading.require("plateforme_sas", ("url", "origine"), purpose)
    return reading.apply(PlatformSettings(url="", origin=""), PLATFORM_KEYS)


#: ``[rendez_vous]``: the agenda editors' appointment feedback endpoint.
ENDPOINT_SECTION: Section[AppointmentSettings] = Section(
    AppointmentSettings, tables_of(ENDPOINT_KEYS), _read_endpoint, _check_endpoint
)
#: ``[plateforme_sas]``: the national platform's search opened from a dossier.
PLATFORM_SECTION: Section[PlatformSettings] = Section(
    PlatformSettings, tables_of(PLATFORM_KEYS), _read_platform
)
