"""The benches' certificates: an authority, a server certificate for 127.0.0.1 and one
client certificate with its CN and OU (mutual TLS as the rooms' peers use it: the SAS
guide's editors, the Hub Santé), made by app.throwaway_pki and found again by path in
the bench's child processes. Never for a room: the keys are written unencrypted in the
bench's temporary directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.throwaway_pki import Authority


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def at(cls, where: Path) -> Pki:
        """The files ``make_pki`` wrote in ``where`` (app.throwaway_pki's layout)."""
        return cls(where / "ca" / "cert.pem", where / "server" / "cert.pem",
                   where / "server" / "key.pem", where / "client" / "cert.pem",
                   where / "client" / "key.pem")  # fmt: skip


def make_pki(where: Path, *, server: str, client: tuple[str, str]) -> Pki:
    """An authority, a server certificate for the IP ``server``, a client (CN, OU)."""
    authority = Authority(where, name="sasdesk bench CA")
    authority.issue("server", hosts=(server,))
    cn, ou = client
    authority.client("client", cn=cn, ou=ou)
    return Pki.at(where)
