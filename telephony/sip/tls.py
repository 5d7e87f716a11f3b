"""SIP over TLS to the room's proxy (RFC 3261 §18.3 stream framing, RFC 5630 practice).

The desk opens one TLS connection to its proxy and keeps it: every request and response
goes over it, and the proxy reuses it to reach the desk (the Contact is the connection's
own address with ``;transport=tls``, so the proxy's connection lookup finds it). The
proxy's certificate is verified against the CA file given, else the system store, and
its name against the configured server; a certificate that does not verify is final.
"""

from __future__ import annotations

import logging
import re
import select
import socket
import ssl
import threading
import time
from pathlib import Path

from telephony.sip.transport import Handler

log = logging.getLogger(__name__)

MAX_HEADER = 16 * 1024  # a header block longer than this is not SIP: drop the connection
MAX_BODY = 64 * 1024
_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)


class TlsRefused(Exception):
    """The proxy's certificate did not verify (final: retrying will not help)."""


class TlsUnreachable(Exception):
    """No TLS connection to the proxy right now (it may come back)."""


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx  # CERT_REQUIRED and check_hostname: the defaults, kept


class StreamFramer:
    """Cuts a byte stream into SIP messages by their Content-Length."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while True:
            self._buf = self._buf.lstrip(b"\r\n")  # CRLF keep-alives (RFC 5626 §3.5.1)
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_HEADER:
                    raise ValueError("header block too long")
                return out
            if end > MAX_HEADER:
                raise ValueError("header block too long")
            match = _LENGTH.search(self._buf[:end])
            length = int(match.group(1)) if match else 0  # mandatory on streams; absent: 0
            if length > MAX_BODY:
                raise ValueError(f"body of {length} bytes refused")
            total = end + 4 + length
            if len(self._buf) < total:
                return out
            out.append(self._buf[:total])
            self._buf = self._buf[total:]


class TlsTransport:
    """Same interface as :class:`~telephony.sip.transport.UdpTransport`: ``send`` ignores
    the address (everything goes to the proxy), ``handler`` gets the proxy's address."""

    name = "TLS"
    uri_param = ";transport=tls"

    def __init__(
        self,
        server: tuple[str, int],
        handler: Handler,
        ca_file: Path | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.server = server
        self._handler = handler
        self._ctx = client_context(ca_file)
        self._timeout = connect_timeout
        self._sock: ssl.SSLSocket | None = None
        self._io = threading.Lock()
        self._stop = threading.Event()
        self._framer = StreamFramer()
        self.host, self.port = "", 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect and verify; raises :class:`TlsRefused` or :class:`TlsUnreachable`."""
        self._thread = threading.Thread(target=self._run, name="sip-tls", daemon=True)
        self._thread.start()  # first: a failed connection is retried by the next send
        try:
            self._connect()
        except OSError as exc:
            raise TlsUnreachable(str(exc)) from exc

    def _connect(self) -> None:
        raw = socket.create_connection(self.server, timeout=self._timeout)
        try:
            sock = self._ctx.wrap_socket(raw, server_hostname=self.server[0])
        except ssl.SSLCertVerificationError as exc:
            raw.close()
            raise TlsRefused(exc.verify_message or str(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            raw.close()
            raise TlsUnreachable(str(exc)) from exc
        sock.setblocking(False)
        with self._io:
            self._sock = sock
            self._framer = StreamFramer()
            self.host, self.port = sock.getsockname()[:2]
        log.info("TLS to %s:%s from %s:%s (%s)", *self.server, self.host, self.port, sock.version())

    def _ensure(self) -> ssl.SSLSocket | None:
        if self._sock is not None:
            return self._sock
        try:
            self._connect()
        except (OSError, TlsRefused, TlsUnreachable) as exc:
            log.info("TLS reconnect to %s:%s failed: %s", *self.server, exc)
            return None
        return self._sock

    def send(self, data: bytes, addr: tuple[str, int] | None = None) -> bool:
        sock = self._ensure()
        if sock is None:
            return False
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        try:
            while view:
                with self._io:
                    try:
                        sent = sock.send(view)
                    except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                        sent = 0
                view = view[sent:]
                if view:
                    if time.monotonic() > deadline:
                        raise TimeoutError("TLS send stalled")
                    select.select([], [sock], [], 0.05)
            return True
        except OSError as exc:
            log.info("TLS send failed: %s", exc)
            self._drop(sock)
            return False

    def _drop(self, sock: ssl.SSLSocket) -> None:
        with self._io:
            if self._sock is sock:
                self._sock = None
        try:
            sock.close()
        except OSError:
            pass

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread and thread.is_alive() and thread is not threading.current_thread():
            thread.join(2)
        sock = self._sock
        if sock is not None:
            self._drop(sock)

    def _run(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                self._stop.wait(0.2)
                continue
            try:
                if not sock.pending():
                    select.select([sock], [], [], 0.2)
                with self._io:
                    try:
                        data = sock.recv(65535)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        continue
            except (OSError, ValueError) as exc:
                if not self._stop.is_set():
                    log.info("TLS connection to the proxy lost: %s", exc)
                self._drop(sock)
                continue
            arrival = time.time()
            if not data:
                log.info("the proxy closed the TLS connection")
                self._drop(sock)
                continue
            try:
                messages = self._framer.feed(data)
            except ValueError as exc:
                log.warning("TLS stream from the proxy unusable (%s): connection dropped", exc)
                self._drop(sock)
                continue
            for message in messages:
                try:
                    self._handler(message, self.server, arrival)
                except Exception:  # one bad message must not stop the line
                    log.exception("handling a message from %s failed", self.server)
