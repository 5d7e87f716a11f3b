"""The core of a desk's SIP user agent: transactions, dialogs, dispatch.

SipLine (telephony/sip/line.py) composes it with registration, incoming calls,
outgoing calls and mid-call features, each in its own module.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from telephony.audio.device import open_audio
from telephony.audio.recorder import CallRecorder, recording_path
from telephony.audio.rtp import RtpSession
from telephony.audio.srtp import parse_crypto
from telephony.line import EndReason, LineEvent, LineEventKind, PhoneLine
from telephony.sip import sdp
from telephony.sip.agent import AgentState, Registration, RegistrationState
from telephony.sip.config import SipConfig
from telephony.sip.dialog import Call, ClientTx
from telephony.sip.message import (
    SipMessage,
    SipParseError,
    parse,
    parse_name_addr,
    parse_uri,
    via_param,
    via_sent_by,
)
from telephony.sip.timers import Timer, Timers
from telephony.sip.tls import TlsTransport
from telephony.sip.transport import UdpTransport

log = logging.getLogger(__name__)


ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REFER"
USER_AGENT = "sasdesk"
ALLOW_SET = frozenset(m.strip() for m in ALLOW.split(","))


class UserAgent(PhoneLine):
    """Shared state and plumbing; every SIP message is handled under ``_lock``."""

    def __init__(self, config: SipConfig) -> None:
        super().__init__()
        self.config = config
        self._lock = threading.RLock()
        self._calls: dict[str, Call] = {}
        self._txs: dict[tuple[str, str], ClientTx] = {}
        self._transport: UdpTransport | TlsTransport | None = None
        self._timers: Timers | None = None
        self._reg_call_id = f"reg-{secrets.token_hex(8)}"
        self._reg_tag = secrets.token_hex(6)
        self._reg_cseq = 0
        self._reg_auth_tried = False
        self._reg_timer: Timer | None = None
        self._keepalive_timer: Timer | None = None
        self._proxy_boot = ""  # the proxy's X-SAS-Boot: a change means it restarted
        self._reg_backoff = config.retry_min
        self._registration = Registration(RegistrationState.UNREGISTERED)
        self._agent = AgentState.READY
        self._pause_reason = ""
        self._stopping = False
        self.stats = {"received": 0, "malformed": 0, "rejected_busy": 0, "challenges": 0}

    @property
    def label(self) -> str:
        return f"Ligne SIP {self.config.user}@{self.config.server}:{self.config.port}"

    @property
    def registration(self) -> Registration:
        return self._registration

    @property
    def local_port(self) -> int:
        return self._transport.port if self._transport else 0

    @property
    def agent_state(self) -> AgentState:
        with self._lock:
            if self._agent is AgentState.PAUSED:
                return AgentState.PAUSED
            if any(c.state != "ended" for c in self._calls.values()):
                return AgentState.IN_CALL
            return self._agent

    @property
    def pause_reason(self) -> str:
        return self._pause_reason

    def pause(self, reason: str = "") -> None:
        """Stop ringing on this desk: incoming calls get 486 and ring elsewhere."""
        with self._lock:
            self._agent = AgentState.PAUSED
            self._pause_reason = reason

    def ready(self) -> None:
        with self._lock:
            self._agent = AgentState.READY
            self._pause_reason = ""

    def wrap_up(self) -> None:
        with self._lock:
            self._agent = AgentState.WRAP_UP

    def call_info(self, call_id: str) -> Call | None:
        with self._lock:
            return self._calls.get(call_id)

    def set_mute(self, call_id: str, muted: bool) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call and call.rtp:
                call.rtp.muted = muted

    def levels(self, call_id: str) -> tuple[float, float]:
        """(received, sent) audio levels in dBFS for the desk's level meter."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.rtp is None:
                return -120.0, -120.0
            return call.rtp.rx_level, call.rtp.tx_level

    def _emit(self, kind: LineEventKind, call: Call | None = None, **kw: str) -> None:
        if call is not None:
            kw.setdefault("call_id", call.call_id)
            if call.line:
                kw.setdefault("line", call.line)
            if call.caller:
                kw.setdefault("caller", call.caller)
            if call.number:
                kw.setdefault("number", call.number)
        try:
            self.emit(LineEvent(kind, **kw))  # type: ignore[arg-type]  # only str fields
        except Exception:  # a listener's bug must not stop the line
            log.exception("line listener failed on %s", kind)

    @property
    def _contact(self) -> str:
        t = self._transport
        assert t is not None
        return f"<sip:{self.config.user}@{t.host}:{t.port}{t.uri_param}>"

    @property
    def _proxy(self) -> tuple[str, int]:
        return self.config.server, self.config.port

    def _via(self, branch: str) -> str:
        t = self._transport
        assert t is not None
        return f"SIP/2.0/{t.name} {t.host}:{t.port};rport;branch={branch}"

    @staticmethod
    def _branch() -> str:
        return "z9hG4bK" + secrets.token_hex(10)

    def _send(self, msg: SipMessage | bytes, dest: tuple[str, int]) -> None:
        if self._transport is not None:
            self._transport.send(msg if isinstance(msg, bytes) else msg.encode(), dest)

    def _response(self, req: SipMessage, status: int, reason: str, to_tag: str = "") -> SipMessage:
        resp = SipMessage(status=status, reason=reason)
        for key, value in req.headers:
            if key in ("via", "from", "call-id", "cseq"):
                resp.add(key, value)
            elif key == "to":
                if to_tag and ";tag=" not in value.replace(" ", ""):
                    value = f"{value};tag={to_tag}"
                resp.add(key, value)
            elif key == "record-route" and 100 < status < 300:
                resp.add(key, value)
        resp.add("server", USER_AGENT)
        return resp

    @staticmethod
    def _reply_address(req: SipMessage, source: tuple[str, int]) -> tuple[str, int]:
        """RFC 3261 §18.2.2 with RFC 3581 rport: where a response goes."""
        via = req.top_via
        host, port = via_sent_by(via)
        received = via_param(via, "received")
        rport = via_param(via, "rport")
        if received or rport:
            return received or source[0], int(rport) if rport.isdigit() else source[1]
        if ";rport" in via:
            return source
        return host or source[0], port

    def _reply(
        self,
        req: SipMessage,
        source: tuple[str, int],
        status: int,
        reason: str,
        to_tag: str = "",
        extra: dict[str, str] | None = None,
        body: bytes = b"",
        content_type: str = "",
    ) -> bytes:
        resp = self._response(req, status, reason, to_tag)
        for k, v in (extra or {}).items():
            resp.add(k, v)
        if body:
            resp.add("content-type", content_type)
            resp.body = body
        data = resp.encode()
        self._send(data, self._reply_address(req, source))
        return data

    def _request(
        self,
        msg: SipMessage,
        dest: tuple[str, int],
        on_response: Callable[[SipMessage], None],
        on_timeout: Callable[[], None],
    ) -> ClientTx:
        branch = msg.branch
        tx = ClientTx(
            branch, msg.method, msg.encode(), dest, on_response, on_timeout, interval=self.config.t1
        )
        self._txs[(branch, msg.method)] = tx
        self._send(tx.data, dest)
        self._arm(tx)
        return tx

    def _arm(self, tx: ClientTx) -> None:
        assert self._timers is not None
        if tx.provisional and tx.method == "INVITE":
            # RFC 3261 §17.1.1.2: after a 1xx the INVITE waits for its final answer (the
            # far end may ring for minutes; the proxy's timer ends it, or our CANCEL)
            return
        delay = min(tx.interval, 4.0)
        tx.timer = self._timers.call_later(delay, lambda: self._retransmit(tx))

    def _retransmit(self, tx: ClientTx) -> None:
        with self._lock:
            if tx.done or (tx.provisional and tx.method == "INVITE"):
                return
            if time.monotonic() - tx.started >= self.config.request_timeout:
                tx.done = True
                self._txs.pop((tx.branch, tx.method), None)
                tx.on_timeout()
                return
            self._send(tx.data, tx.dest)
            tx.interval = tx.interval * 2 if tx.method == "INVITE" else min(tx.interval * 2, 4.0)
            self._arm(tx)

    def _on_response(self, resp: SipMessage) -> None:
        method = resp.cseq[1]
        tx = self._txs.get((resp.branch, method))
        if tx is None:
            # a retransmitted 2xx to our INVITE: the ACK is ours to repeat
            call = self._calls.get(resp.call_id)
            if (
                call
                and not call.incoming
                and method == "INVITE"
                and resp.status < 300
                and call.ack_data
            ):
                self._send(call.ack_data, self._ack_dest(call))
            return
        if resp.status < 200:
            tx.provisional = True
            if tx.method == "INVITE" and tx.timer:
                tx.timer.cancel()
        else:
            tx.done = True
            if tx.timer:
                tx.timer.cancel()
            self._txs.pop((tx.branch, tx.method), None)
        tx.on_response(resp)

    def _on_datagram(self, data: bytes, source: tuple[str, int], arrival: float) -> None:
        if not data.strip(b"\r\n\0 "):
            return  # keep-alive
        try:
            msg = parse(data)
        except SipParseError as exc:
            self.stats["malformed"] += 1
            log.info("malformed SIP from %s dropped: %s", source, exc)
            return
        with self._lock:
            self.stats["received"] += 1
            if self._transport is None:
                return
            try:
                if msg.is_request:
                    self._on_request(msg, source, arrival)
                else:
                    self._on_response(msg)
            except (SipParseError, sdp.SdpError) as exc:
                self.stats["malformed"] += 1
                log.info("unusable %s from %s: %s", msg.method or msg.status, source, exc)
                if msg.is_request and msg.method != "ACK":
                    self._reply(msg, source, 400, "Bad Request")

    def _on_request(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        """Dispatch to ``_on_<method>`` of the mixins; others get 405 with our Allow."""
        method = req.method
        handler = getattr(self, f"_on_{method.lower()}", None) if method in ALLOW_SET else None
        if handler is None:
            self._reply(req, source, 405, "Method Not Allowed", extra={"allow": ALLOW})
            return
        handler(req, source, arrival)

    def _new_media(self, call: Call) -> RtpSession:
        factory = self.config.audio_factory or (lambda: open_audio(self.config.use_headset))
        if self.config.record_dir is not None:
            call.recorder = CallRecorder(recording_path(Path(self.config.record_dir), call.call_id))
        assert self._transport is not None
        return RtpSession(
            self._transport.host,
            factory(),
            call.recorder,
            on_dtmf=lambda digit: self._emit(LineEventKind.DTMF, call, digit=digit),
        )

    def _dialog_request(
        self, call: Call, method: str, cseq: int | None = None, branch: str | None = None
    ) -> tuple[SipMessage, tuple[str, int]]:
        if cseq is None:
            call.local_cseq = max(call.local_cseq, call.invite_cseq if not call.incoming else 0)
            call.local_cseq += 1
            cseq = call.local_cseq
        req = SipMessage(method=method, uri=call.remote_target)
        req.add("via", self._via(branch or self._branch()))
        req.add("max-forwards", "70")
        local = f"{call.local_uri};tag={call.local_tag}"
        remote = f"{call.remote_uri};tag={call.remote_tag}" if call.remote_tag else call.remote_uri
        req.add("from", local)
        req.add("to", remote)
        req.add("call-id", call.call_id)
        req.add("cseq", f"{cseq} {method}")
        for route in call.route_set:
            req.add("route", route)
        req.add("contact", self._contact)
        req.add("user-agent", USER_AGENT)
        return req, self._ack_dest(call)

    def _ack_dest(self, call: Call) -> tuple[str, int]:
        """Next hop of an in-dialog request: the first loose route, else the target."""
        if call.route_set:
            try:
                uri = parse_uri(parse_name_addr(call.route_set[0]).uri)
                return uri.host, uri.port or 5060
            except SipParseError:
                pass
        try:
            uri = parse_uri(call.remote_target)
            return uri.host, uri.port or 5060
        except SipParseError:
            return self._proxy

    def _send_bye(self, call: Call) -> None:
        req, dest = self._dialog_request(call, "BYE")
        self._request(req, dest, lambda r: None, lambda: None)

    def hangup(self, call_id: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is not None:
                self._hangup(call)

    def _hangup(self, call: Call) -> None:
        if call.state == "ended":
            return
        if call.incoming and call.state == "ringing":
            assert call.invite is not None
            call.last_response = self._reply(
                call.invite, call.invite_source, 603, "Decline", to_tag=call.local_tag
            )
            self._end(call, EndReason.REJECTED)
        elif not call.incoming and call.state in ("calling", "early"):
            self._send_cancel(call)
            self._end(call, EndReason.LOCAL_HANGUP)
        else:
            self._send_bye(call)
            self._end(call, EndReason.LOCAL_HANGUP)

    def _on_bye(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        call = self._calls.get(req.call_id)
        if call is None or call.state == "ended":
            self._reply(
                req,
                source,
                481 if call is None else 200,
                "Call/Transaction Does Not Exist" if call is None else "OK",
            )
            return
        self._reply(req, source, 200, "OK")
        self._end(call, EndReason.TRANSFERRED if call.pending_transfer else EndReason.REMOTE_HANGUP)

    def _end(self, call: Call, reason: EndReason) -> None:
        if call.state == "ended":
            return
        was = call.state
        call.state = "ended"
        if call.referred_from and was in ("calling", "early"):
            self._refer_outcome(call, "SIP/2.0 503 Service Unavailable")
        if call.final_timer and reason is not EndReason.FAILED:
            call.final_timer.cancel()
        if call.rtp is not None:
            call.rtp.stop()
            call.rtp.audio.close()
        self._emit(LineEventKind.ENDED, call, reason=str(reason))
        if call.recorder is not None:
            path = call.recorder.close()
            self._emit(LineEventKind.RECORDING, call, path=str(path))
        if was == "confirmed" and self.config.wrap_up_after_call:
            self._agent = AgentState.WRAP_UP
        assert self._timers is not None
        # keep the call a while to absorb retransmissions, then forget it
        self._timers.call_later(max(8 * self.config.t1, 4.0), lambda: self._forget(call))

    def _forget(self, call: Call) -> None:
        with self._lock:
            if self._calls.get(call.call_id) is call and call.state == "ended":
                del self._calls[call.call_id]

    def _ack_error(self, invite: SipMessage, resp: SipMessage, dest: tuple[str, int]) -> None:
        """RFC 3261 §17.1.1.3: the ACK of a non-2xx final answer, same branch."""
        ack = SipMessage(method="ACK", uri=invite.uri)
        ack.add("via", invite.top_via)
        ack.add("max-forwards", "70")
        ack.add("from", invite.get("from"))
        ack.add("to", resp.get("to"))
        ack.add("call-id", invite.call_id)
        ack.add("cseq", f"{invite.cseq[0]} ACK")
        for route in invite.get_all("route"):
            ack.add("route", route)
        self._send(ack, dest)

    def _send_cancel(self, call: Call) -> None:
        invite = call.invite
        assert invite is not None
        cancel = SipMessage(method="CANCEL", uri=invite.uri)
        cancel.add("via", invite.top_via)
        cancel.add("max-forwards", "70")
        cancel.add("from", invite.get("from"))
        cancel.add("to", invite.get("to"))
        cancel.add("call-id", invite.call_id)
        cancel.add("cseq", f"{invite.cseq[0]} CANCEL")
        cancel.add("reason", 'SIP;cause=487;text="hung up by the desk"')
        # The CANCEL is its own transaction, with the INVITE's branch (§9.1): keyed apart.
        tx = ClientTx(
            "cancel:" + invite.branch,
            "CANCEL",
            cancel.encode(),
            self._proxy,
            lambda r: None,
            lambda: None,
            interval=self.config.t1,
        )
        self._send(tx.data, tx.dest)

    def _srtp_refusal(self, offer: sdp.MediaDescription | None) -> str:
        """Why an offer's media security is unacceptable ("" when it is fine)."""
        if offer is not None and offer.secure:
            if not any(parse_crypto(c) for c in offer.crypto):
                return '399 sasdesk "SRTP: no AES_CM_128_HMAC_SHA1_80 inline key offered"'
            return ""
        if self.config.srtp == "required":
            return '399 sasdesk "SRTP required by this desk: media in clear refused"'
        return ""

    # -- hooks the call-handling mixins provide --------------------------------------------

    def _on_reinvite(self, call: Call, req: SipMessage, source: tuple[str, int]) -> None:
        self._reply(req, source, 488, "Not Acceptable Here")

    def _refer_outcome(self, new: Call, status_line: str) -> None:
        return None
