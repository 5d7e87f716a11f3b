"""The room's Pro Santé Connect settings (hub.toml ``[psc]``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

#: PSC's discovery document is not at the standard ``openid-configuration`` path
#: (ansforge/keycloak-prosanteconnect, src/main/resources/psc.properties).
DISCOVERY_PATH = "/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
PRODUCTION_DISCOVERY = "https://auth.esw.esante.gouv.fr" + DISCOVERY_PATH


class Policy(StrEnum):
    """How a role logs in (the wire value of the welcome's ``psc.roles``)."""

    MUST = "must"
    MAY = "may"
    PASSWORD = "password"


class Fallback(StrEnum):
    """What a role that must use PSC may do while PSC is unreachable."""

    PASSWORD_WITH_REASON = "password_with_reason"
    NONE = "none"


#: Doctors may use PSC; the other roles use passwords (the room changes it per role).
DEFAULT_ROLES: dict[str, Policy] = {"MRL": Policy.MAY, "MEDECIN_AMU": Policy.MAY}


@dataclass(frozen=True)
class PscSettings:
    #: PSC's discovery document; empty: no PSC client (every role uses passwords).
    discovery_url: str = ""
    client_id: str = ""
    #: The client secret, read from a file or an environment variable at load (never
    #: written inline in hub.toml); empty with a client certificate (mutual TLS).
    client_secret: str = field(default="", repr=False)
    cert_file: Path | None = None
    key_file: Path | None = None
    #: Extra CA to trust for PSC's endpoints (a test provider, a proxy).
    ca_file: Path | None = None
    roles: dict[str, Policy] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    fallback: Fallback = Fallback.PASSWORD_WITH_REASON
    #: The client is registered for the authorization-code flow (browser, PKCE).
    pkce: bool = False
    #: One HTTP request to PSC, at most.
    timeout_s: float = 10.0
    #: The hub never polls PSC faster than this, whatever ``interval`` PSC gave.
    poll_floor_s: float = 1.0
    #: Added to the polling interval at each ``slow_down`` (CIBA core §11: at least 5 s).
    slow_down_s: float = 5.0
    scope: str = "openid scope_all"
    acr: str = "eidas1"

    @property
    def enabled(self) -> bool:
        return bool(self.discovery_url and self.client_id)

    def policy(self, role: str) -> Policy:
        if not self.enabled:
            return Policy.PASSWORD
        return self.roles.get(role, Policy.PASSWORD)
