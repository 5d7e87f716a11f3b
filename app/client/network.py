"""The desk's view of the network: which local address reaches a server."""

from __future__ import annotations

import socket


def local_ip_for(server: str, port: int) -> str:
    """The local address the system would use to reach the SIP server (no packet sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((server, port))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"
