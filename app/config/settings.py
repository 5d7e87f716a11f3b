"""What a hub needs to know about its room, as one typed, frozen object.

The hub reads it from its configuration file (``/etc/sasdesk/hub.toml`` or
``--config``, see ``app.config.hubfile``), command-line flags override single values,
and every part of the hub receives the section it needs from here rather than from
module constants. Defaults are those of the embedded desk: loopback, a SQLite file,
no TLS, the room settings of ``resources/callback/reglages.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from app.domain.room import TARGET_ANSWERED, WEEKLY_SNP_CAP
from app.psc.settings import PscSettings

S = TypeVar("S")


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
    #: Headers every request carries besides Accept and Authorization (the ROR's
    #: four ``Ror-*`` headers naming the consumer's profile and role).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FhirSettings:
    """Free slots pulled from agenda editors: none configured, nothing pulled."""

    editors: tuple[FhirEditorSettings, ...] = ()
    refresh_minutes: float = 10.0
    #: Slots starting within this many hours are pulled (the search shows 72 h).
    window_hours: float = 72.0
    #: The ROR's FHIR API: the CPTS and their intervention zones (HealthcareService),
    #: pulled on the same client as the editors; None: not pulled (``sasdesk import
    #: ror FILE`` still works).
    ror: FhirEditorSettings | None = None
    ror_refresh_minutes: float = 1440.0


@dataclass(frozen=True)
class RetentionSettings:
    """How long things are kept, in days; None: the legal default (``sasdesk purge``)."""

    dossiers_days: int | None = None
    recordings_days: int | None = None
    audit_days: int | None = None


@dataclass(frozen=True)
class TerritorySettings:
    #: Shown to the desks and in the reports, e.g. "SAS 17 — Charente-Maritime".
    name: str = ""
    #: Communes and sectors (JSON like resources/demo/territory.json); None: the demo one.
    file: Path | None = None


@dataclass(frozen=True)
class TargetSettings:
    """Figures the room is held to: answering target, weekly SNP cap per doctor."""

    answered: float = TARGET_ANSWERED
    weekly_snp_cap: int = WEEKLY_SNP_CAP


@dataclass(frozen=True)
class HubSanteSettings:
    """The Hub Santé (ANS) connection: AMQP 0-9-1 over TLS, logged in by our client
    certificate. Absent from the settings: no connector."""

    client_id: str  # our client id on the Hub Santé, e.g. "fr.health.sas017"
    url: str  # amqps://hub.esante.gouv.fr:5671/vhost?auth=EXTERNAL
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    #: Whom locally opened dossiers are shared with (the SAMU's LRM); "" = nobody.
    default_recipient: str = ""
    #: The national SAS platform, the only sender of RS-SAS-RDV appointments we take
    #: (the SAS guide: fr.health.ptfsas in production, fr.health.test.ptfsas elsewhere).
    platform_id: str = "fr.health.ptfsas"
    exchange: str = "hubsante"
    status: str = "Actual"  # "Exercise" on a training platform
    prefetch: int = 50


@dataclass(frozen=True)
class SessionSettings:
    """How long a login lasts and how password guessing is slowed (``[sessions]``).

    Defaults: a desk left without any action for an hour asks for the password again
    (the dossier stays on screen); no session outlives a 12 h shift plus its hand-over.
    After 3 wrong passwords for an account the next attempt waits 1 s, then 2, 4, … up to
    30 s; the 10th locks the account for 15 minutes (an event tells the supervisor). An
    address gets the same treatment at 10 and 50 failures (many accounts tried from one
    place).
    """

    idle_minutes: float = 60.0
    max_shift_hours: float = 13.0
    throttle_after: int = 3
    max_delay_seconds: float = 30.0
    lock_after: int = 10
    lock_minutes: float = 15.0
    address_throttle_after: int = 10
    address_lock_after: int = 50
    #: A throttled or locked attempt is answered after this pause (a flood of them then
    #: costs the hub one cheap reply per socket and per pause).
    refusal_pause_seconds: float = 1.0
    #: How often the hub checks open connections against the database (revocations made
    #: by another hub or by ``sasdesk users disable``, expiry, idle time).
    check_seconds: float = 1.0


@dataclass(frozen=True)
class HistorySettings:
    """The caller's history shown on ring (``[anteriorites]``): how far back it looks,
    and from how many dossiers in that period a number is marked a frequent caller."""

    days: int = 30
    frequent_after: int = 3


@dataclass(frozen=True)
class HubSettings:
    db_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8765
    demo: bool = False
    tls: TlsSettings = field(default_factory=TlsSettings)
    fhir: FhirSettings = field(default_factory=FhirSettings)
    hubsante: HubSanteSettings | None = None
    sessions: SessionSettings = field(default_factory=SessionSettings)
    #: permessage-deflate on the desks' websockets: off in a room (a LAN; every event is
    #: compressed again for each desk on the hub's loop), on for desks behind a slow link.
    compression: bool = False
    #: Where the hub keeps the calls' recordings (None: beside the database).
    recordings_store: Path | None = None
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    territory: TerritorySettings = field(default_factory=TerritorySettings)
    targets: TargetSettings = field(default_factory=TargetSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    #: Pro Santé Connect: the hub's client and the room's policy per role (``[psc]``).
    psc: PscSettings = field(default_factory=PscSettings)
    #: The features' own sections (``app.config.sections``), one object per settings
    #: class: the call-back's room settings, the appointment endpoint, the platform's
    #: search. Read them with ``section``.
    sections: tuple[object, ...] = ()
    #: The file these settings came from (None: defaults and flags only).
    source: Path | None = None

    def section(self, kind: type[S]) -> S | None:
        """The feature settings of type ``kind``; None when the file leaves it out
        (the feature is off, or at its defaults)."""
        return next((s for s in self.sections if isinstance(s, kind)), None)
