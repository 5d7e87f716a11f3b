"""Configuration of a desk's SIP line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telephony.audio.device import AudioPort


@dataclass
class SipConfig:
    server: str
    port: int = 5060
    user: str = ""
    password: str = ""
    domain: str = ""  # SIP domain of the room; default: the server address
    local_host: str = "127.0.0.1"
    sip_port: int = 0  # 0: any free port
    expires: int = 3600  # asked for; the registrar may grant less
    keepalive: float = 20.0  # OPTIONS to the proxy every N s while registered (0: off)
    record_dir: Path | None = None
    # offered in this order; G.722 chosen whenever an offer carries it (sdp.choose_codec)
    codecs: tuple[str, ...] = ("G722", "PCMU", "PCMA")
    transport: str = "udp"  # "udp" or "tls" (SIP over TLS to the proxy, verified)
    tls_ca_file: Path | None = None  # CA of the proxy's certificate; None: system store
    # SRTP (SDES): "offered" takes it whenever an offer is RTP/SAVP; "required" also
    # refuses (488) any call whose media would be in clear
    srtp: str = "offered"
    t1: float = 0.5  # RFC 3261 retransmission base
    request_timeout: float = 32.0  # a transaction without answer fails after this
    retry_min: float = 1.0  # registration retry back-off
    retry_max: float = 30.0
    max_calls: int = 1  # a desk in a call does not ring (486: the fork goes on)
    wrap_up_after_call: bool = False  # after an answered call: wrap-up until ready()
    use_headset: bool = False
    audio_factory: Callable[[], AudioPort] | None = None

    @property
    def sip_domain(self) -> str:
        return self.domain or self.server
