"""UDP transport of a desk line, with the kernel's arrival time of each datagram."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux
SCM_TIMESTAMPNS = SO_TIMESTAMPNS

Handler = Callable[[bytes, tuple[str, int], float], None]


class UdpTransport:
    """Receives on its own thread; ``handler(data, addr, arrival)`` with the arrival
    time (``time.time()`` scale) stamped by the kernel when the packet reached the socket."""

    name = "UDP"  # in the Via
    uri_param = ""  # in the Contact

    def __init__(self, host: str, port: int, handler: Handler) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self._kernel_stamps = True
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:
            self._kernel_stamps = False
        self.host, self.port = self.sock.getsockname()[:2]
        self._handler = handler
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sip-{self.port}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, data: bytes, addr: tuple[str, int]) -> bool:
        try:
            self.sock.sendto(data, addr)
            return True
        except (OSError, TypeError, ValueError, UnicodeError) as exc:
            # a dead peer, or an address taken from a hostile Via ("1.2.3.4\x00", port 0)
            log.debug("send to %s failed: %s", addr, exc)
            return False

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, anc, _flags, addr = self.sock.recvmsg(65535, 64)
            except TimeoutError:
                continue
            except OSError as exc:  # ICMP port unreachable from a dead peer, closed socket
                if self._stop.is_set():
                    return
                log.debug("recv: %s", exc)
                continue
            arrival = time.time()
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(payload) >= 16:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    arrival = sec + nsec / 1e9
            try:
                self._handler(data, addr, arrival)
            except Exception:  # one bad datagram must not stop the line
                log.exception("handling a datagram from %s failed", addr)
