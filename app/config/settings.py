"""What a hub needs to know about its room, as one typed, frozen object.

The hub reads it from its configuration file (``/etc/sasdesk/hub.toml`` or
``--config``), command-line flags override single values, and every part of the hub
receives the section it needs from here rather than from module constants. Defaults
are those of the embedded desk: loopback, a SQLite file, no TLS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TlsSettings:
    """The hub's certificate for ``wss://``; without one it serves plain ``ws://``."""

    cert: Path | None = None
    key: Path | None = None
    #: Explicit consent to serve plain ws:// on an address other than loopback.
    insecure: bool = False

    @property
    def enabled(self) -> bool:
        return self.cert is not None


@dataclass(frozen=True)
class FhirEditorSettings:
    """One agenda editor's FHIR endpoint (SAS implementation guide, slot aggregation)."""

    name: str
    base_url: str
    #: The whole pull (every page) must finish within this, or it is given up.
    timeout_s: float = 10.0
    token: str = ""  # sent as "Authorization: Bearer …" when set
    ca_file: Path | None = None  # the editor's CA (default: the system store)
    cert_file: Path | None = None  # our client certificate, when the editor asks for one
    key_file: Path | None = None
    page_size: int = 200


@dataclass(frozen=True)
class FhirSettings:
    """Free slots pulled from agenda editors: none configured, nothing pulled."""

    editors: tuple[FhirEditorSettings, ...] = ()
    refresh_minutes: float = 10.0
    #: Slots starting within this many hours are pulled (the search shows 72 h).
    window_hours: float = 72.0


@dataclass(frozen=True)
class HubSettings:
    db_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8765
    demo: bool = False
    tls: TlsSettings = field(default_factory=TlsSettings)
    fhir: FhirSettings = field(default_factory=FhirSettings)
    #: Where the hub keeps the calls' recordings (None: beside the database).
    recordings_store: Path | None = None
