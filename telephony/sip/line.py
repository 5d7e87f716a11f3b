"""SipLine: a desk's SIP line (RFC 3261 user agent over UDP) behind PhoneLine.

Registration with digest auth and refresh at the granted expiry; incoming calls
presented as soon as the INVITE is read; CANCEL answered 487; outgoing calls with
401/407 challenges; hold/resume (re-INVITE), blind transfer (REFER), DTMF (RFC 4733),
OPTIONS, call recording. Every SIP message is handled on the transport thread under
one lock; timers run on their own thread; audio on one thread per call.
"""

from __future__ import annotations

import logging
import threading

from telephony.sip.agent import RegistrationState
from telephony.sip.config import SipConfig
from telephony.sip.incoming import IncomingCalls
from telephony.sip.midcall import MidCallFeatures
from telephony.sip.outgoing import OutgoingCalls
from telephony.sip.registration import RegistrationMixin
from telephony.sip.timers import Timers
from telephony.sip.tls import TlsRefused, TlsTransport, TlsUnreachable
from telephony.sip.transport import UdpTransport

log = logging.getLogger(__name__)

__all__ = ["SipConfig", "SipLine"]


class SipLine(RegistrationMixin, IncomingCalls, OutgoingCalls, MidCallFeatures):
    """A desk's SIP line: the PhoneLine the desk sees."""

    def start(self) -> None:
        cfg = self.config
        self._timers = Timers(f"sip-timers-{cfg.user}")
        self._set_registration(RegistrationState.REGISTERING)
        if cfg.transport == "tls":
            tls = TlsTransport(
                (cfg.server, cfg.port), self._on_datagram, cfg.tls_ca_file, cfg.request_timeout / 4
            )
            self._transport = tls
            try:
                tls.start()
            except TlsRefused as exc:
                # final: a proxy whose certificate does not verify gets nothing from us
                self._set_registration(
                    RegistrationState.FAILED,
                    detail=f"certificat TLS du proxy refusé ({exc}) : ligne non enregistrée",
                )
                return
            except (TlsUnreachable, OSError) as exc:
                with self._lock:
                    self._registration_down(f"connexion TLS au proxy impossible ({exc})")
                return
        elif cfg.transport == "udp":
            self._transport = UdpTransport(cfg.local_host, cfg.sip_port, self._on_datagram)
            self._transport.start()
        else:
            raise ValueError(f"transport SIP inconnu : {cfg.transport!r} (udp ou tls)")
        with self._lock:
            self._register()

    def stop(self) -> None:
        """End every call, unregister (waiting at most ~1 s), close everything."""
        if self._transport is None:
            return
        done = threading.Event()
        with self._lock:
            self._stopping = True
            for call in list(self._calls.values()):
                if call.state == "ended":
                    continue
                try:
                    self._hangup(call)
                except Exception:
                    log.exception("hanging up %s on stop", call.call_id)
            for timer in (self._reg_timer, self._keepalive_timer):
                if timer:
                    timer.cancel()
            if self._registration.state is RegistrationState.REGISTERED:
                self._register(expires=0, on_done=done.set)
            else:
                done.set()
        done.wait(1.5)
        with self._lock:
            for tx in self._txs.values():
                tx.done = True
                if tx.timer:
                    tx.timer.cancel()
            self._txs.clear()
        assert self._timers is not None
        self._timers.stop()
        self._transport.stop()
        self._transport = None
