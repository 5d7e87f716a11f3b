"""Certificates made by the tests themselves: a CA, hub certificates good and bad, client
certificates. The generator is the product's (app.throwaway_pki, shared with the benches
and the Hub Santé broker double); this module keeps the tests' names for it."""

from __future__ import annotations

from app.throwaway_pki import Authority, Issued, self_signed

__all__ = ["Authority", "Issued", "client_certificate", "self_signed"]


def client_certificate(authority: Authority, name: str, *, cn: str, ou: str) -> Issued:
    """A client certificate (TLS client authentication) with the given CN and OU, as an
    agenda editor presents to the hub's appointment endpoint."""
    return authority.client(name, cn=cn, ou=ou)
