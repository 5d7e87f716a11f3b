"""A throw-away certificate authority for the benches: a server certificate for
127.0.0.1 and one client certificate with its CN and OU (mutual TLS as the rooms' peers
use it: the SAS guide's editors, the Hub Santé). Never for a room: the keys are written
unencrypted in the bench's temporary directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def at(cls, where: Path) -> Pki:
        """The files ``make_pki`` wrote in ``where``."""
        return cls(where / "ca.crt", where / "server.crt", where / "server.key",
                   where / "client.crt", where / "client.key")  # fmt: skip


def _name(cn: str, ou: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if ou:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    return x509.Name(parts)


def _write(
    cert_path: Path, key_path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
    )
    key_path.chmod(0o600)


def make_pki(where: Path, *, server: str, client: tuple[str, str]) -> Pki:
    """An authority, a server certificate for the IP ``server``, a client (CN, OU)."""
    where.mkdir(parents=True, exist_ok=True)
    pki = Pki.at(where)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("sasdesk bench CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(
        subject: x509.Name, san: x509.SubjectAlternativeName | None
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=2))
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    san = x509.SubjectAlternativeName([x509.IPAddress(ip_address(server))])
    _write(pki.server_cert, pki.server_key, *issue(_name(server), san))
    _write(pki.client_cert, pki.client_key, *issue(_name(*client), None))
    return pki
