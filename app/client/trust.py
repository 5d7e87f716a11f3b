"""How a desk decides it talks to its own hub over ``wss://``.

Three ways, in this order:

1. a CA file given by the room's IT (``--ca FILE``): the certificate must chain to it
   and name the hub's address, nothing else is accepted;
2. otherwise the system's trust store (a certificate from a recognised authority);
3. otherwise the certificate's SHA-256 fingerprint, accepted once (given with
   ``--fingerprint`` or confirmed by the user) and pinned per hub address in the desk's
   settings directory; a different certificate on that address later is refused.

Nothing is sent to the hub before the certificate is accepted: the login comes after.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from websockets.asyncio.client import ClientConnection, connect

from app.hub.fingerprints import fingerprint, normalise_fingerprint

log = logging.getLogger(__name__)

#: Asked when a hub's certificate is unknown: (hub address, fingerprint) -> trust it?
Confirm = Callable[[str, str], Awaitable[bool]]


class CertificateRefused(Exception):
    """The hub's certificate is not trusted; the message is for the user (French)."""


def default_pin_file() -> Path:
    return Path(platformdirs.user_config_dir("sasdesk", appauthor=False)) / "hubs-pinned.json"


class PinStore:
    """Fingerprints accepted once, one per hub address (``host:port``), in a JSON file."""

    def __init__(self, path: Path | None = None):
        self.path = path or default_pin_file()

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Never fall open: an unreadable store pins nothing, so every hub is asked again.
            log.error("pinned hubs file %s unreadable: %s", self.path, exc)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, address: str) -> str | None:
        return self._load().get(address)

    def put(self, address: str, fp: str) -> None:
        pins = self._load()
        pins[address] = normalise_fingerprint(fp)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pins, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass
class HubTrust:
    ca_file: Path | None = None
    pins: PinStore = field(default_factory=PinStore)
    #: Asks the user about an unknown certificate; None refuses it (headless desks).
    confirm: Confirm | None = None


def hub_address(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    return f"{parts.hostname}:{port}"


_REASONS = {
    7: "le certificat du hub n'est pas signé par une autorité reconnue (signature invalide)",
    9: "le certificat du hub n'est pas encore valide (horloge du poste ou du hub ?)",
    10: "le certificat du hub a expiré",
    18: "le certificat du hub est auto-signé et n'est pas reconnu",
    19: "le certificat du hub n'est pas signé par une autorité reconnue",
    20: "le certificat du hub n'est pas signé par une autorité reconnue",
    21: "le certificat du hub n'est pas signé par une autorité reconnue",
}


def explain(exc: ssl.SSLCertVerificationError, url: str, ca_file: Path | None) -> str:
    code = getattr(exc, "verify_code", 0)
    if code in (62, 64):  # host name or IP address mismatch
        reason = f"le certificat du hub n'est pas établi pour l'adresse {urlsplit(url).hostname}"
    else:
        reason = _REASONS.get(code, f"certificat du hub refusé ({exc.verify_message or exc})")
    where = f"le fichier CA {ca_file}" if ca_file else "le magasin de certificats du système"
    return f"Connexion refusée à {url} : {reason} (vérifié avec {where})."


def _unverified() -> ssl.SSLContext:
    # Only to read the certificate and compare its fingerprint with the pinned one.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_fingerprint(ws: ClientConnection) -> str:
    ssl_object = ws.transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise CertificateRefused("le hub n'a présenté aucun certificat")
    return fingerprint(der)


async def open_socket(url: str, trust: HubTrust, **options: Any) -> ClientConnection:
    """Connect to the hub; for wss://, only once its certificate is trusted."""
    if urlsplit(url).scheme != "wss":
        return await connect(url, **options)
    verifying = ssl.create_default_context(cafile=str(trust.ca_file) if trust.ca_file else None)
    verifying.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        return await connect(url, ssl=verifying, **options)
    except ssl.SSLCertVerificationError as exc:
        if trust.ca_file is not None:
            raise CertificateRefused(explain(exc, url, trust.ca_file)) from exc
        unknown = exc
    address = hub_address(url)
    ws = await connect(url, ssl=_unverified(), **options)
    try:
        seen = peer_fingerprint(ws)
        pinned = trust.pins.get(address)
        if pinned == seen:
            return ws
        if pinned is not None:
            raise CertificateRefused(
                f"Connexion refusée : le certificat du hub {address} a changé. Empreinte "
                f"SHA-256 reçue {seen}, attendue {pinned}. Ce n'est peut-être pas votre hub : "
                "prévenez l'administrateur. S'il a changé le certificat, faites-lui confirmer "
                "la nouvelle empreinte et relancez avec --fingerprint."
            )
        if trust.confirm is not None and await trust.confirm(address, seen):
            trust.pins.put(address, seen)
            log.info("hub %s certificate %s accepted and pinned", address, seen)
            return ws
        raise CertificateRefused(
            f"{explain(unknown, url, None)} Empreinte SHA-256 du certificat présenté : {seen}. "
            "Vérifiez-la auprès de l'administrateur du hub, puis relancez avec "
            "--fingerprint ou --ca."
        )
    except BaseException:
        await ws.close()
        raise
