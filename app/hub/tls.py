"""The hub's side of TLS: the certificate from the settings, and where plain ws:// may go.

A hub with a certificate and key serves ``wss://``. Without one it serves ``ws://``,
which is acceptable only on loopback (the embedded desk, tests): on any other address
the hub refuses to start unless the room's administrator said ``--insecure`` in so
many words, and then it says so in its log and in the welcome frame of every desk.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from pathlib import Path

from app.config.settings import TlsSettings
from app.hub.fingerprints import fingerprint


class TlsConfigError(Exception):
    """The TLS settings cannot be used (French message for the administrator)."""


class ListenRefused(TlsConfigError):
    """Plain ws:// on a non-loopback address without explicit consent."""


def is_loopback(host: str) -> bool:
    """True if every address ``host`` names is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not host:
        return False  # "" means every interface
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_listen(host: str, tls: TlsSettings) -> bool:
    """Apply the listening rule; True when the hub will serve plain ws:// off loopback.

    Raises ListenRefused when that would happen without ``insecure``.
    """
    if tls.enabled or is_loopback(host):
        return False
    if not tls.insecure:
        raise ListenRefused(
            f"refus d'écouter sur {host or 'toutes les interfaces'} sans TLS : les postes y "
            "enverraient mots de passe et dossiers en clair. Donnez un certificat "
            "(--tls-cert et --tls-key, ou [tls] dans hub.toml), écoutez sur 127.0.0.1, "
            "ou, en connaissance de cause, ajoutez --insecure."
        )
    return True


def server_context(tls: TlsSettings) -> ssl.SSLContext | None:
    """The server's TLS context from the settings, or None for plain ws://."""
    if tls.cert is None:
        if tls.key is not None:
            raise TlsConfigError("clé TLS donnée sans certificat (--tls-cert manquant)")
        return None
    for what, path in (("certificat", tls.cert), ("clé", tls.key)):
        if path is not None and not Path(path).is_file():
            raise TlsConfigError(f"{what} TLS introuvable : {path}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(tls.cert), str(tls.key) if tls.key else None)
    except ssl.SSLError as exc:
        raise TlsConfigError(
            f"certificat {tls.cert} ou clé {tls.key} inutilisable "
            f"({exc.reason or exc}) : la clé correspond-elle au certificat ?"
        ) from exc
    except OSError as exc:
        raise TlsConfigError(f"certificat ou clé TLS illisible : {exc}") from exc
    return ctx


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def file_fingerprint(cert: Path) -> str:
    """The fingerprint of the first (the hub's own) certificate of a PEM file."""
    found = _PEM_CERT.search(Path(cert).read_text(encoding="ascii", errors="replace"))
    if found is None:
        raise TlsConfigError(f"{cert} ne contient pas de certificat PEM")
    return fingerprint(ssl.PEM_cert_to_DER_cert(found.group(0)))


_PG_TLS_HINTS = (
    (
        "does not support SSL",
        "le serveur PostgreSQL n'accepte pas les connexions chiffrées "
        "alors que l'URL l'exige (sslmode) : activez ssl sur le serveur, ou changez sslmode",
    ),
    (
        "certificate verify failed",
        "le certificat du serveur PostgreSQL n'est pas reconnu par "
        "sslrootcert (sslmode=verify-ca ou verify-full)",
    ),
    (
        "root certificate file",
        "sslmode=verify-ca ou verify-full demande un fichier sslrootcert lisible",
    ),
    (
        "invalid sslmode value",
        "valeur de sslmode inconnue (disable, allow, prefer, require, verify-ca, verify-full)",
    ),
)


def database_tls_hint(reason: str) -> str | None:
    """Say in French when a database connection failed because of its TLS settings."""
    for marker, hint in _PG_TLS_HINTS:
        if marker in reason:
            return hint
    return None
