"""Reference Kamailio configuration of the regulation room and a runner for it."""

from telephony.kamailio.room import Desk, KamailioRoom, free_udp_port

__all__ = ["Desk", "KamailioRoom", "free_udp_port"]
