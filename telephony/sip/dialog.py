"""State of SIP transactions and calls (dialogs) of a desk line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.audio.recorder import CallRecorder
from telephony.audio.rtp import RtpSession
from telephony.sip import sdp
from telephony.sip.message import SipMessage
from telephony.sip.timers import Timer


@dataclass
class ClientTx:
    """A request we sent and wait an answer for (retransmitted until then)."""

    branch: str
    method: str
    data: bytes
    dest: tuple[str, int]
    on_response: Callable[[SipMessage], None]
    on_timeout: Callable[[], None]
    started: float = field(default_factory=time.monotonic)
    interval: float = 0.5
    timer: Timer | None = None
    provisional: bool = False
    done: bool = False


@dataclass
class Call:
    call_id: str
    incoming: bool
    state: str = "ringing"  # ringing (in) | calling/early (out) | confirmed | ended
    line: str = ""
    caller: str = ""
    number: str = ""
    local_tag: str = ""
    remote_tag: str = ""
    local_uri: str = ""  # our From/To name-addr (without tag)
    remote_uri: str = ""
    remote_target: str = ""  # the peer's Contact URI
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 0
    invite: SipMessage | None = None  # incoming: the INVITE; outgoing: the last one we sent
    invite_source: tuple[str, int] = ("", 0)
    invite_branch: str = ""
    invite_cseq: int = 0
    last_response: bytes = b""  # to a retransmitted INVITE
    final_timer: Timer | None = None
    final_data: bytes = b""
    final_dest: tuple[str, int] = ("", 0)
    rtp: RtpSession | None = None
    recorder: CallRecorder | None = None
    offer: sdp.MediaDescription | None = None
    payload_type: int = 0
    local_crypto: str = ""  # our a=crypto value when the media are SRTP (RFC 4568)
    held: bool = False  # we put the peer on hold
    remote_held: bool = False  # the peer put us on hold
    sdp_version: int = 1
    # challenges answered, by (answer header, realm): a second one for the same realm fails
    challenges: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    arrival: float = 0.0  # kernel time the INVITE reached the desk's socket
    ringing_at: float = 0.0
    ack_data: bytes = b""
    pending_transfer: str = ""
    remote_ringing: bool = False
    referred_from: str = ""  # transferee: the call whose REFER made this one
