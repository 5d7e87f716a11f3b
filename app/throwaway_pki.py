"""Throw-away certificates: one authority and the certificates it signs, for the tests,
the benches and the peer doubles (the Hub Santé's broker, the agenda editors).

The one certificate generator of the tree: tests/certs.py, app.bench.pki and
app.interop.hubsante.broker stand on it. Never for a room: the keys are written
unencrypted (mode 0600) wherever the caller asks, usually a temporary directory; a
room's certificates come from its own authority (docs/deploy.md).

An ``Authority`` writes its certificate in ``root/ca/cert.pem``; ``issue(name, ...)``
writes ``root/name/cert.pem`` and ``root/name/key.pem``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOCALHOST = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, ou: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if ou:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    return x509.Name(parts)


def _alt_names(hosts: tuple[str, ...]) -> x509.SubjectAlternativeName:
    """IP addresses as IP entries, anything else as a DNS name."""
    alt: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(alt)


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    path.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = path / "cert.pem", path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return Issued(cert_file, key_file)


def _validity(
    now: datetime, valid: tuple[timedelta, timedelta] | None, expired: bool
) -> tuple[datetime, datetime]:
    if valid:
        return now + valid[0], now + valid[1]
    if expired:
        return now - timedelta(days=30), now - timedelta(days=1)
    return now - timedelta(days=1), now + timedelta(days=90)


class Authority:
    """A throw-away certification authority in ``root`` (its certificate: ``file``)."""

    def __init__(self, root: Path, name: str = "CA de test sasdesk"):
        self.root = root
        self.key = _key()
        subject = _name(name)
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )
        self.file = _write(root / "ca", self.cert, self.key).cert

    def issue(
        self,
        name: str,
        *,
        hosts: tuple[str, ...] = LOCALHOST,
        cn: str | None = None,
        ou: str = "",
        expired: bool = False,
        valid: tuple[timedelta, timedelta] | None = None,
        client: bool = False,
    ) -> Issued:
        """A certificate and its key in ``root/name``. ``hosts``: its subject alternative
        names (none if empty); ``cn``: its common name (the first host if not given) and
        ``ou`` its organizational unit, as a client presents them to mutual TLS;
        ``valid``: (start, end) from now, e.g. a certificate that expires in 10 days;
        ``expired``: one that expired yesterday; ``client``: a TLS client's certificate
        rather than a server's."""
        key = _key()
        start, end = _validity(datetime.now(UTC), valid, expired)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn if cn is not None else hosts[0], ou))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
        )
        if hosts:
            builder = builder.add_extension(_alt_names(hosts), critical=False)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        cert = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return _write(self.root / name, cert, key)

    def client(self, name: str, *, cn: str, ou: str = "") -> Issued:
        """A client certificate (TLS client authentication) with the given CN and OU, as
        an agenda editor presents to the hub's appointment endpoint, or a Hub Santé
        client to its broker."""
        return self.issue(name, hosts=(), cn=cn, ou=ou, client=True)


def self_signed(root: Path, host: str = "127.0.0.1") -> Issued:
    """A hub certificate that only pinning can make trusted."""
    return Authority(root / "self", name=host).issue("hub", hosts=(host,))
