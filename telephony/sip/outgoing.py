"""Outgoing calls: INVITE with 401/407 challenges, dialog set from the 2xx (RFC 3261 §12)."""

from __future__ import annotations

import logging
import secrets

from telephony.audio.srtp import SrtpContext, new_crypto, parse_crypto
from telephony.line import EndReason, LineEventKind
from telephony.sip import sdp
from telephony.sip.dialog import Call
from telephony.sip.digest import authorization, parse_challenge
from telephony.sip.message import (
    SipMessage,
    parse_name_addr,
)
from telephony.sip.useragent import ALLOW, USER_AGENT, UserAgent

log = logging.getLogger(__name__)


class OutgoingCalls(UserAgent):
    def dial(self, number: str) -> str:
        with self._lock:
            if self._transport is None:
                raise RuntimeError("line not started")
            cfg = self.config
            call = Call(
                call_id=f"{secrets.token_hex(12)}@{self._transport.host}",
                incoming=False,
                state="calling",
                number=number,
                local_tag=secrets.token_hex(6),
                local_uri=f"<sip:{cfg.user}@{cfg.sip_domain}>",
                remote_uri=f"<sip:{number}@{cfg.sip_domain}>",
                remote_target=f"sip:{number}@{cfg.sip_domain}",
            )
            call.rtp = self._new_media(call)
            self._calls[call.call_id] = call
            self._emit(LineEventKind.DIALING, call)
            self._send_invite(call)
            return call.call_id

    def _send_invite(self, call: Call) -> None:
        cfg = self.config
        assert call.rtp is not None and self._transport is not None
        call.local_cseq += 1
        call.invite_cseq = call.local_cseq
        branch = self._branch()
        req = SipMessage(method="INVITE", uri=call.remote_target)
        req.add("via", self._via(branch))
        req.add("max-forwards", "70")
        req.add("from", f"{call.local_uri};tag={call.local_tag}")
        req.add("to", call.remote_uri)
        req.add("call-id", call.call_id)
        req.add("cseq", f"{call.local_cseq} INVITE")
        req.add("contact", self._contact)
        req.add("allow", ALLOW)
        req.add("user-agent", USER_AGENT)
        # the proxy (407) and the far end (401) may both ask: answer every challenge met
        for (answer, _realm), params in call.challenges.items():
            req.add(answer, authorization(params, "INVITE", req.uri, cfg.user, cfg.password))
        req.add("content-type", "application/sdp")
        pts = [sdp.BY_NAME[c] for c in cfg.codecs if c in sdp.BY_NAME]
        if cfg.srtp == "required" and not call.local_crypto:
            call.local_crypto = new_crypto().attribute()  # offered RTP/SAVP only
        req.body = sdp.build(
            self._transport.host,
            call.rtp.port,
            pts,
            101,
            version=call.sdp_version,
            crypto=call.local_crypto,
        )
        call.invite = req
        call.invite_branch = branch
        self._request(
            req,
            self._proxy,
            lambda r: self._on_invite_response(call, r),
            lambda: self._end(
                call, EndReason.NO_ANSWER if call.state == "early" else EndReason.FAILED
            ),
        )

    @staticmethod
    def _take_challenges(call: Call, resp: SipMessage) -> bool:
        """Remember the challenges of a 401/407; False if one was already answered
        for the same realm (wrong password) and is not merely stale."""
        header, answer = (
            ("www-authenticate", "authorization")
            if resp.status == 401
            else ("proxy-authenticate", "proxy-authorization")
        )
        values = resp.get_all(header)
        if not values:
            return False
        for value in values:
            params = parse_challenge(value)
            key = (answer, params.get("realm", ""))
            if key in call.challenges and params.get("stale", "").lower() != "true":
                return False
            call.challenges[key] = params
        return True

    def _on_invite_response(self, call: Call, resp: SipMessage) -> None:
        assert call.invite is not None
        if resp.status < 200:
            if resp.status in (180, 183) and call.state != "ended":
                if call.state == "calling":
                    call.state = "early"
                if not call.remote_ringing:
                    call.remote_ringing = True
                    self._emit(LineEventKind.REMOTE_RINGING, call)
            return
        if resp.status >= 300:
            self._ack_error(call.invite, resp, self._proxy)
            if call.state == "ended":
                return
            if resp.status in (401, 407) and self._take_challenges(call, resp):
                self.stats["challenges"] += 1
                try:
                    self._send_invite(call)
                    return
                except ValueError:  # a scheme or algorithm we cannot answer
                    pass
            reason = EndReason.FAILED
            if resp.status in (486, 600, 603):
                reason = EndReason.BUSY
            elif resp.status in (408, 480, 487):
                reason = EndReason.NO_ANSWER
            self._end(call, reason)
            return
        # 2xx: the dialog is set from it (RFC 3261 §12.1.2), ACK goes to its Contact
        call.remote_tag = parse_name_addr(resp.get("to")).tag
        contact = resp.get("contact")
        if contact:
            call.remote_target = parse_name_addr(contact).uri
        call.route_set = list(reversed(resp.get_all("record-route")))
        ack, dest = self._dialog_request(call, "ACK", cseq=call.invite_cseq)
        call.ack_data = ack.encode()
        self._send(call.ack_data, dest)
        if call.state == "ended":  # we hung up meanwhile: the 2xx crossed our CANCEL
            self._send_bye(call)
            return
        try:
            answer = sdp.parse(resp.body)
        except sdp.SdpError:
            self._send_bye(call)
            self._end(call, EndReason.FAILED)
            return
        pt = sdp.answered_codec(answer, list(self.config.codecs))
        remote = next((c for c in map(parse_crypto, answer.crypto) if c), None)
        if call.local_crypto and (not answer.secure or remote is None):
            pt = None  # we offered SRTP only: an answer in clear is refused
        elif call.local_crypto and remote is not None and call.rtp is not None:
            local = parse_crypto(call.local_crypto)
            assert local is not None
            call.rtp.srtp = SrtpContext(local, remote)
        if pt is None or call.rtp is None:
            self._send_bye(call)
            self._end(call, EndReason.FAILED)
            return
        call.payload_type = pt
        call.rtp.start((answer.address, answer.port), pt, answer.dtmf_pt)
        call.state = "confirmed"
        self._emit(LineEventKind.ANSWERED, call)
        if call.referred_from:
            self._refer_outcome(call, "SIP/2.0 200 OK")
